using DepthPrune.Export;
using DepthPrune.Folding;
using DepthPrune.Models;
using DepthPrune.Runtime;

namespace DepthPrune.Bench;

/// <summary>Does merging a residual block's two 3x3 convs into one 5x5 conv pay at deploy time,
/// although it costs MACs? The Fashion-MNIST ResNet-18 (CIFAR stem) with every block's inner ReLU
/// removed, folded under `macs` (no merge: more MACs) and under `depth` (every block one 5x5 conv),
/// each timed against the dense network in ONNX Runtime side by side, batch 1 and 64; the median
/// ratio of `repeats` interleaved runs of 300 passes.</summary>
static class MergeLatency
{
    public static void Run(int repeats)
    {
        foreach (double width in new[] { 0.125, 0.25 })
        {
            Seeding.Seed(1);
            using var model = ModelZoo.Create("resnet18-cifar", new ModelOptions(Classes: 10, InChannels: 1, Width: width, InputSize: 28));
            model.Net.eval();
            var dense = OnnxExport.Build(Folder.Compile(model), model.Options, model.Name);
            foreach (var slot in model.Structure.Activations.Where(s => s.EndsWith(".relu1"))) model.Slots[slot].SetIdentity();
            var compiled = Folder.Compile(model);
            foreach (var policy in new[] { FoldPolicy.Macs, FoldPolicy.Depth })
            {
                var folded = OnnxExport.Build(Folder.Fold(compiled, policy).Stages, model.Options, model.Name);
                RatioRuns.Print($"width {width}, 8 inner ReLUs removed, fold {policy.ToString().ToLowerInvariant()}", dense, folded, model.Options, repeats);
            }
        }
    }
}
