using DepthPrune.Models;
using DepthPrune.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DepthPrune.Tests.Folding;

/// <summary>Narrow zoo models whose structure runs as written, in eval mode, with BatchNorm
/// statistics that are not the identity (so folding them is really tested).</summary>
static class FoldableModels
{
    /// <summary>Every zoo model.</summary>
    public static TheoryData<string> Names => new(ModelZoo.All.Select(e => e.Name));

    public static ZooModel Create(string name, double width, int seed, int size = 32)
    {
        Seeding.Seed(seed);
        bool grey = name is "lenet5" or "mlp";
        // Swin-T's width is a multiple of 24 channels: its narrowest keeps the test fast.
        var model = ModelZoo.Create(name, new ModelOptions(Classes: 10, InChannels: grey ? 1 : 3, Width: grey ? 1 : name == "swin-t" ? 0.125 : width, InputSize: grey ? 28 : size));
        using var noGrad = no_grad();
        foreach (var bn in model.Net.modules().OfType<BatchNorm2d>())
        {
            bn.running_mean!.copy_(randn_like(bn.running_mean) * 0.1);
            bn.running_var!.copy_(rand_like(bn.running_var) + 0.5);
            bn.weight!.copy_(rand_like(bn.weight) + 0.5);
            bn.bias!.copy_(randn_like(bn.bias) * 0.1);
        }
        model.Net.eval();
        return model;
    }
}
