using DepthPrune.Export;
using DepthPrune.Folding;
using DepthPrune.Models;
using DepthPrune.Tests.Export;
using static TorchSharp.torch;

namespace DepthPrune.Tests.Folding;

/// <summary>Every fold policy on every zoo model, with a random half of its activations removed
/// (and one linearized per channel), against the unfolded model on random inputs, and the folded
/// network's ONNX export against it in ONNX Runtime. The onnxruntime policy is given a fixed cost
/// per output position (<see cref="DispatchCost"/>), not timings, so its grouping is the same at
/// every run and input side.</summary>
public class EveryModelFoldTests
{
    public static TheoryData<string, FoldPolicy> Cases()
    {
        var cases = new TheoryData<string, FoldPolicy>();
        foreach (string name in ModelZoo.All.Select(e => e.Name))
            foreach (var policy in Enum.GetValues<FoldPolicy>()) cases.Add(name, policy);
        return cases;
    }

    static ILayerCost? Cost(FoldPolicy policy) => policy == FoldPolicy.OnnxRuntime ? new DispatchCost(200) : null;

    static ZooModel Linearized(string name, int size = 32)
    {
        var model = FoldableModels.Create(name, 0.125, seed: 21, size);
        var random = new Random(name.Length);
        var slots = model.Slots.Values.ToList();
        foreach (var slot in slots.Where(_ => random.NextDouble() < 0.5)) slot.SetIdentity();
        var masked = slots.First(s => !s.IsLinear);
        masked.SetChannelMask([.. Enumerable.Range(0, (int)masked.Channels).Select(i => i % 4 == 0 ? 0f : 1f)]);
        return model;
    }

    /// <summary>Relative error of the folded network against the model, same weights, at this input side.</summary>
    static float BorderError(string name, FoldPolicy policy, int size)
    {
        using var model = Linearized(name, size);
        var (stages, _) = Folder.Fold(Folder.Compile(model), policy, Cost(policy));
        using var x = randn(2, model.Options.InChannels, size, size);
        using var folded = new FoldedNet(stages);
        using var expected = model.Net.forward(x);
        using var actual = folded.forward(x);
        return ((actual - expected).abs().max() / expected.abs().max()).item<float>();
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Folded_network_computes_what_the_model_computes(string name, FoldPolicy policy)
    {
        using var model = Linearized(name);
        var (stages, steps) = Folder.Fold(Folder.Compile(model), policy, Cost(policy));
        using var noGrad = no_grad();
        using var x = randn(3, model.Options.InChannels, model.Options.InputSize, model.Options.InputSize);
        using var folded = new FoldedNet(stages);
        using var expected = model.Net.forward(x);
        using var actual = folded.forward(x);
        float error = ((actual - expected).abs().max() / expected.abs().max()).item<float>();
        if (policy == FoldPolicy.Exact) Assert.All(steps, s => Assert.True(s.Exact, $"{s.First}..{s.Second}"));
        if (steps.All(s => s.Exact)) Assert.True(error < 1e-5f, $"{steps.Count} exact merges, relative error {error}");
        else
        {
            // Inexact merges differ only where padding was moved, at the borders of each map. Once
            // the maps are a few pixels wide (128-px inputs), doubling the side halves the share of
            // border pixels, and the error must fall with it (measured 0.37-0.73x); a wrong weight
            // or bias would not fall. (From 32 px it may rise: there the deepest maps are 1x1, where
            // moved padding changes nothing.)
            Assert.True(float.IsFinite(error), $"relative error {error}");
            float e128 = BorderError(name, policy, 128), e256 = BorderError(name, policy, 256);
            Assert.True(e256 < 0.8f * e128, $"{name} {policy}: relative error {e128} at 128 px, {e256} at 256 px");
        }
        Assert.True(Folder.Depth(stages) <= model.Structure.Depth());
        if (policy == FoldPolicy.Depth) Assert.Equal(model.LinearDepth(), Folder.Depth(stages));

        float onnxError = OnnxExportTests.RelativeError(stages, model, folded);
        Assert.True(onnxError < 1e-4f, $"ONNX Runtime against the folded network: relative error {onnxError}");
    }
}
