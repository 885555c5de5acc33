using DepthPrune.Models;
using static TorchSharp.torch;

namespace DepthPrune.Tests.Models;

/// <summary>Networks exported by PyTorch, imported: same outputs as ONNX Runtime and PyTorch,
/// same rectifier statistics as PyTorch's on the same images.</summary>
public class OnnxImportTests
{
    [Theory]
    [MemberData(nameof(OnnxFixture.All), MemberType = typeof(OnnxFixture))]
    public void Imported_network_computes_what_onnx_runtime_and_pytorch_compute(string name)
    {
        var fixture = new OnnxFixture(name);
        using var model = fixture.Import();
        model.Net.eval();
        using var noGrad = no_grad();
        using var x = fixture.InputTensor();
        using var y = model.Net.call(x);
        float[] ours = y.data<float>().ToArray();
        Assert.True(OnnxFixture.RelativeError(ours, fixture.RunInOnnxRuntime(fixture.Path)) < 1e-4);
        Assert.True(OnnxFixture.RelativeError(ours, fixture.Logits) < 1e-4);
    }

    [Theory]
    [MemberData(nameof(OnnxFixture.All), MemberType = typeof(OnnxFixture))]
    public void Rectifier_statistics_equal_pytorch_site_by_site(string name)
    {
        var fixture = new OnnxFixture(name);
        using var model = fixture.Import();
        using var x = fixture.InputTensor();
        var measured = OnnxFixture.MeasureInExecutionOrder(model, x);
        Assert.Equal(model.Structure.Activations.Count, measured.Count);   // each site runs once
        Assert.Equal(fixture.Rectifiers.Count, measured.Count);
        for (int i = 0; i < measured.Count; i++)
        {
            var (ours, reference) = (measured[i], fixture.Rectifiers[i]);
            Assert.Equal(reference.Neurons, ours.Neurons);
            Assert.True(Math.Abs(reference.Entropy - ours.Entropy) < 1e-4, $"{ours.Name}: entropy {ours.Entropy} vs PyTorch {reference.Entropy}");
            Assert.True(reference.OnFraction.Zip(ours.OnFraction, (a, b) => Math.Abs(a - b)).Max() < 1e-3, $"{ours.Name}: ON fractions differ");
        }
    }
}

/// <summary>Every learned tensor of an imported network trains: ConvNeXt's LayerNorm scales and
/// shifts (decomposed at opset 13, whole at 17) and layer scales included.</summary>
public class OnnxImportParameterTests
{
    [Theory]
    [InlineData("convnext.opset13")]
    [InlineData("convnext.opset17")]
    public void An_imported_network_has_the_parameters_pytorch_has_and_each_receives_a_gradient(string name)
    {
        var fixture = new OnnxFixture(name);
        using var model = fixture.Import();
        var parameters = model.Net.named_parameters().ToList();
        Assert.Equal(fixture.Parameters, parameters.Sum(p => p.parameter.numel()));
        model.Net.train();
        using var x = fixture.InputTensor();
        using var loss = model.Net.call(x).square().mean();
        loss.backward();
        Assert.All(parameters, p => Assert.True(p.parameter.grad is { } g && g.abs().sum().item<float>() > 0, $"{p.name}: no gradient"));
    }
}

/// <summary>Imported networks with rectifiers removed: folded, exported, and run in ONNX Runtime.</summary>
public class OnnxImportFoldTests
{
    [Theory]
    [MemberData(nameof(OnnxFixture.All), MemberType = typeof(OnnxFixture))]
    public void Folded_export_of_an_imported_network_with_rectifiers_removed_computes_what_the_network_computes(string name)
    {
        var fixture = new OnnxFixture(name);
        using var model = fixture.Import();
        // Remove every other rectifier: some chains fold, some regions keep a removed one inside.
        foreach (var slot in model.Structure.Activations.Where((_, i) => i % 2 == 1)) model.Slots[slot].SetIdentity();
        model.Net.eval();
        var compiled = DepthPrune.Folding.Folder.Compile(model);
        // Merging every chain reaches the depth the structure predicts; exact merges keep the outputs.
        var (shallowest, _) = DepthPrune.Folding.Folder.Fold(compiled, DepthPrune.Folding.FoldPolicy.Depth);
        Assert.Equal(model.LinearDepth(), DepthPrune.Folding.Folder.Depth(shallowest));
        if (!model.Structure.Walk().OfType<RegionNode>().Any())   // squeezenet and shufflenet: no chain of two layers outside a region
            Assert.True(model.LinearDepth() < model.Structure.Depth());
        var (folded, _) = DepthPrune.Folding.Folder.Fold(compiled, DepthPrune.Folding.FoldPolicy.Exact);
        using var dir = new TempDir();
        DepthPrune.Export.OnnxExport.Write(DepthPrune.Export.OnnxExport.Build(folded, model.Options, model.Name), dir["folded.onnx"]);
        using var noGrad = no_grad();
        using var x = fixture.InputTensor();
        using var y = model.Net.call(x);
        Assert.True(OnnxFixture.RelativeError(fixture.RunInOnnxRuntime(dir["folded.onnx"]), y.data<float>().ToArray()) < 1e-4);
    }
}
