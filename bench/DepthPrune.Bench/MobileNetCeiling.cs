using DepthPrune.Export;
using DepthPrune.Folding;
using DepthPrune.Models;
using DepthPrune.Runtime;
using DepthPrune.Training;

namespace DepthPrune.Bench;

/// <summary>How fast can MobileNetV2 (CIFAR; width 0.25 on Fashion-MNIST and CIFAR-10 input, width 1 on CIFAR-10) deploy if a method
/// removed a given set of its ReLU6s? Weights do not change ONNX Runtime's time, so the sets are
/// removed outright from a seeded network, folded under `macs` and `onnxruntime` (`depth` merges
/// the whole network into a few huge kernels: 1.7x to 15x slower than dense here), and timed against the dense
/// network side by side (2 threads, median ratio of `repeats` interleaved runs of 300 passes).
/// `mnv2-ceiling REPEATS [SET...]` (sets numbered from 1 as listed).
/// `mnv2-linearize CHECKPOINT SET OUT` writes CHECKPOINT's network with SET removed, for `train --init`:
/// what a set costs in accuracy once trained, with no method choosing it.</summary>
static class MobileNetCeiling
{
    static readonly (string Name, Func<string, bool> Removed)[] Sets =
    {
        ("every block's expand ReLU6 (conv.0)", s => s.Contains(".conv.0.") && !s.StartsWith("features.1.")),
        ("every block's depthwise ReLU6 (conv.1)", s => s.Contains(".conv.1.")),
        ("every block, both ReLU6s (features.1-17)", s => s.Contains(".conv.")),
        ("every block and features.18", s => s.Contains(".conv.") || s.StartsWith("features.18.")),
        ("features.2-11 (the 48- and 96-wide blocks) and features.18", s => Block(s) is >= 2 and <= 11 || s.StartsWith("features.18.")),
        ("features.12-17 (144- and 240-wide) and features.18", s => Block(s) is >= 12 and <= 17 || s.StartsWith("features.18.")),
    };

    static int Block(string slot) => int.Parse(slot.Split('.')[1]);

    public static void Run(int repeats, int[] only)
    {
        foreach (var options in new[] { new ModelOptions(Classes: 10, InChannels: 1, Width: 0.25, InputSize: 28),
                                        new ModelOptions(Classes: 10, InChannels: 3, Width: 0.25, InputSize: 32),
                                        new ModelOptions(Classes: 10, InChannels: 3, Width: 1, InputSize: 32) })
        {
            Console.WriteLine($"width {options.Width}, {options.InChannels}x{options.InputSize}x{options.InputSize} input:");
            Run(options, repeats, only);
        }
    }

    public static void Linearize(string checkpoint, int set, string output)
    {
        var (name, removed) = Sets[set - 1];
        using var loaded = Checkpoint.Load(checkpoint, Compute.Cpu);
        var slots = loaded.Model.Structure.Activations.Where(removed).ToList();
        foreach (var slot in slots) loaded.Model.Slots[slot].SetIdentity();
        Checkpoint.Save(output, loaded.Model, loaded.Meta with { Stage = "linearized", Complete = true });
        Console.WriteLine($"{output}: {checkpoint} with {name} removed ({slots.Count} of {loaded.Model.Structure.Activations.Count})");
    }

    static void Run(ModelOptions options, int repeats, int[] only)
    {
        foreach (var (name, removed) in Sets.Where((_, i) => only.Length == 0 || only.Contains(i + 1)))
        {
            Seeding.Seed(1);
            using var model = ModelZoo.Create("mobilenetv2-cifar", options);
            model.Net.eval();
            var dense = OnnxExport.Build(Folder.Compile(model), model.Options, model.Name);
            var slots = model.Structure.Activations.Where(removed).ToList();
            foreach (var slot in slots) model.Slots[slot].SetIdentity();
            var compiled = Folder.Compile(model);
            foreach (var policy in new[] { FoldPolicy.Macs, FoldPolicy.OnnxRuntime })
            {
                using var times = new OnnxLayerTimes(2);
                var fold = Folder.Fold(compiled, policy, times);
                var folded = OnnxExport.Build(fold.Stages, model.Options, model.Name);
                RatioRuns.Print($"{name}: {slots.Count}/35 removed, fold {policy.ToString().ToLowerInvariant()}", dense, folded, model.Options, repeats);
            }
        }
    }
}
