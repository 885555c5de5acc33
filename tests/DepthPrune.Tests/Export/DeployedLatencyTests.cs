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
        // What the original network is given, seen from inside it (timings cannot show it reliably on a shared machine).
        var batches = new List<long>();
        var firstConv = model.Net.modules().OfType<TorchSharp.Modules.Conv2d>().First();   // hooks fire on modules called, not on Net.forward
        var handle = firstConv.register_forward_pre_hook((_, input) => { batches.Add(input.shape[0]); return input; });
        var points = DeployedLatency.Measure(model, compiled, folded, stages, Compute.Cpu.Device, repeats: 3);
        handle.remove();
        Assert.Equal([("libtorch", 1), ("onnxruntime", 1), ("libtorch", 64), ("onnxruntime", 64)], points.Select(p => (p.Runtime, p.Batch)));
        Assert.All(points, p =>
        {
            Assert.True(p.OriginalMs > 0 && p.FoldedMs > 0 && double.IsFinite(p.Ratio));
            Assert.Equal(TorchSharp.torch.get_num_threads(), p.Threads);
        });
        // The batch size reached the model: every libtorch pass of the original ran at 1 or at 64, both were timed.
        Assert.Equal([1L, 64L], batches.Distinct().Order());
        // The graphs ONNX Runtime timed are the two networks: LeNet-5 has 2 convs and 3 Linear layers;
        // with relu3 removed, fc1 and fc2 are one layer in the folded graph (counted by hand).
        Assert.All(points.Where(p => p.Runtime == "onnxruntime"), p => Assert.Equal(((int?)5, (int?)4), (p.OriginalLayers, p.FoldedLayers)));
    }
}
