using DepthPrune.Models;
using DepthPrune.Models.Graph;
using Onnx;
using static TorchSharp.torch;

namespace DepthPrune.Tests.Models;

/// <summary>PRelu nodes become removable activation slots that own their slopes as parameters.</summary>
public class OnnxPReluTests
{
    [Fact]
    public void Prelu_sites_keep_the_files_slopes_as_trainable_parameters()
    {
        var fixture = new OnnxFixture("prelu_net.opset13");
        var file = ModelProto.Parser.ParseFrom(File.ReadAllBytes(fixture.Path)).Graph;
        using var model = fixture.Import();
        var slots = model.Structure.Activations.Select(s => model.Slots[s]).ToList();
        Assert.All(slots, s => Assert.Equal(ActivationKind.PReLU, s.Kind));
        // Per channel at the stem and after the residual add, one slope inside the block and in the head.
        Assert.Equal([16L, 1, 16, 1], slots.Select(s => s.Weight!.numel()));
        var fileSlopes = file.Node.Where(n => n.OpType == "PRelu")
            .Select(n => OnnxValues.ToTensor(file.Initializer.Single(i => i.Name == n.Input[1]), "test").flatten().data<float>().ToArray()).ToList();
        Assert.Equal(fileSlopes, slots.Select(s => s.Weight!.data<float>().ToArray()));

        var parameters = model.Net.parameters().ToList();
        Assert.All(slots, s => Assert.Contains(parameters, p => ReferenceEquals(p, s.Weight) || p.Handle == s.Weight!.Handle));
        using var x = fixture.InputTensor();
        model.Net.train();
        using var loss = model.Net.call(x).square().mean();
        loss.backward();
        Assert.All(slots, s => Assert.True(s.Weight!.grad is { } g && g.abs().sum().item<float>() > 0, $"{s.GetName()}: no gradient"));
    }

    [Fact]
    public void A_slope_that_is_neither_per_layer_nor_per_channel_runs_as_the_file_says_and_is_not_removable()
    {
        using var dir = new TempDir();
        var file = ModelProto.Parser.ParseFrom(File.ReadAllBytes(new OnnxFixture("prelu_net.opset13").Path));
        var node = file.Graph.Node.First(n => n.OpType == "PRelu");
        var slope = file.Graph.Initializer.Single(i => i.Name == node.Input[1]);
        var odd = new TensorProto { Name = slope.Name, DataType = slope.DataType };
        odd.Dims.AddRange([32]);   // valid ONNX: one slope per column of the 32x32 map
        odd.FloatData.AddRange(Enumerable.Range(0, 32).Select(i => i / 100f));
        file.Graph.Initializer.Remove(slope);
        file.Graph.Initializer.Add(odd);
        File.WriteAllBytes(dir["odd.onnx"], Google.Protobuf.MessageExtensions.ToByteArray(file));
        using var model = OnnxImport.Read(dir["odd.onnx"]);
        Assert.Equal(3, model.Structure.Activations.Count);
        var fixture = new OnnxFixture("prelu_net.opset13");
        model.Net.eval();
        using var noGrad = no_grad();
        using var x = fixture.InputTensor();
        using var y = model.Net.call(x);
        Assert.True(OnnxFixture.RelativeError(y.data<float>().ToArray(), fixture.RunInOnnxRuntime(dir["odd.onnx"])) < 1e-4);
    }
}
