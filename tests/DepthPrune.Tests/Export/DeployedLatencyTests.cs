using DepthPrune.Export;
using DepthPrune.Folding;
using DepthPrune.Models;
using DepthPrune.Runtime;

namespace DepthPrune.Tests.Export;

public class DeployedLatencyTests
{
    [Fact]
    public void Latency_is_measured_in_libtorch_and_onnx_runtime_at_batch_1_and_64()
    {
        Seeding.Seed(2);
        using var model = ModelZoo.Create("lenet5", new ModelOptions(Classes: 10, InChannels: 1, InputSize: 28));
        model.Slots["relu3"].SetIdentity();
        var compiled = Folder.Compile(model);
        var (stages, merges) = Folder.Fold(compiled, FoldPolicy.Depth);
        Assert.NotEmpty(merges);
        using var folded = new FoldedNet(stages);
        var points = DeployedLatency.Measure(model, compiled, folded, stages, Compute.Cpu.Device, repeats: 3);
        Assert.Equal([("libtorch", 1), ("onnxruntime", 1), ("libtorch", 64), ("onnxruntime", 64)], points.Select(p => (p.Runtime, p.Batch)));
        Assert.All(points, p =>
        {
            Assert.True(p.OriginalMs > 0 && p.FoldedMs > 0 && double.IsFinite(p.Ratio));
            Assert.Equal(TorchSharp.torch.get_num_threads(), p.Threads);
        });
        // A batch of 64 takes longer than a batch of 1 in each runtime: the batch size reached the model.
        Assert.True(points[2].OriginalMs > points[0].OriginalMs && points[3].OriginalMs > points[1].OriginalMs);
    }
}
