using DepthPrune.Models;
using DepthPrune.Models.Graph;
using DepthPrune.Runtime;
using Microsoft.ML.OnnxRuntime;
using TorchSharp.Modules;
using static TorchSharp.torch;
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;

namespace DepthPrune.Tests.Models;

/// <summary>--classes on an imported network: a new head on a feature extractor, or the last
/// linear layer replaced for another class count.</summary>
public class OnnxHeadTests
{
    /// <summary>The head's weights set to pick the first k features, so its output is checkable.</summary>
    static void PickFirstFeatures(ZooModel model)
    {
        var head = (Linear)model.Module(model.Structure.WeightLayers[^1].Module);
        using var noGrad = no_grad();
        head.weight!.zero_();
        for (int i = 0; i < head.weight.shape[0]; i++) head.weight[i, i] = 1f;
        head.bias!.zero_();
    }

    [Fact]
    public void The_cntk_imagenet_resnet18_imports_as_a_graph_and_takes_a_head_over_its_features()
    {
        string onnx = Path.Combine(AppContext.BaseDirectory, "Assets", "ResNet18.onnx");
        using var model = OnnxImport.Read(onnx, classes: 10);
        Assert.Equal(19, model.Structure.Activations.Count);   // stage 4 of this export has three blocks
        Assert.Equal(10, model.Options.Classes);
        Assert.Equal(224, model.Options.InputSize);
        PickFirstFeatures(model);
        model.Net.eval();
        using var x = randn(1, 3, 224, 224, generator: new TorchSharp.torch.Generator(5));   // the file fixes batch 1
        using var noGrad = no_grad();
        using var y = model.Net.call(x);
        Assert.Equal(new long[] { 1, 10 }, y.shape);

        // ONNX Runtime runs the original file (features [2, 512, 1, 1]); the head picked the first ten.
        using var session = new InferenceSession(onnx);
        var input = new DenseTensor(x.data<float>().ToArray(), [1, 3, 224, 224]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(session.InputMetadata.Keys.First(), input)]);
        float[] features = results.First().AsTensor<float>().ToArray();
        float[] expected = features.Take(10).ToArray();
        Assert.True(OnnxFixture.RelativeError(y.data<float>().ToArray(), expected) < 1e-4);
    }

    [Fact]
    public void Another_class_count_replaces_the_last_linear_layer_and_keeps_the_rest()
    {
        var fixture = new OnnxFixture("vgg11_bn.opset13");
        using var original = fixture.Import();
        using var fourClasses = OnnxImport.Read(fixture.Path, classes: 4);
        Assert.Equal(original.Structure.Depth(), fourClasses.Structure.Depth());
        var head = (Linear)fourClasses.Module(fourClasses.Structure.WeightLayers[^1].Module);
        Assert.Equal(new long[] { 4, ((Linear)original.Module(original.Structure.WeightLayers[^1].Module)).in_features }, head.weight!.shape);
        // The layers before the head are the file's: the same first conv weights.
        var first = original.Structure.WeightLayers[0];
        Assert.True(original.Weight(first).allclose(fourClasses.Weight(first), rtol: 0, atol: 0));
        Assert.Throws<UsageException>(() => OnnxImport.Read(fixture.Path, classes: null, inputSize: 64));
    }
}
