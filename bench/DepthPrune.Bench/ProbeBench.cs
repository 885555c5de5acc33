using DepthPrune.Data;
using DepthPrune.Entropy;
using DepthPrune.Models;
using DepthPrune.Runtime;
using static TorchSharp.torch;

namespace DepthPrune.Bench;

/// <summary>Entropy probe overhead: one probe pass (streaming ON counts in every activation)
/// against one plain eval pass over the same data and model, timed alternately.</summary>
static class ProbeBench
{
    public static void Run(int repeats)
    {
        Console.WriteLine("## Entropy probe overhead (median of " + repeats + ", Fashion-MNIST training images, batch 256)");
        Console.WriteLine();
        Console.WriteLine("| model | activations | images | eval pass s | probe pass s | probe / eval |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        foreach (var (name, width, images) in new[] { ("lenet5", 1.0, 10000), ("mlp", 1.0, 10000), ("resnet18-cifar", 0.125, 10000), ("resnet18-cifar", 0.5, 2000) })
        {
            using var data = DataBundle.Load(new DataOptions("fashion-mnist", TrainSubset: images));
            Seeding.Seed(0);
            using var model = ModelZoo.Create(name, new ModelOptions(Classes: 10, InChannels: 1, Width: width, InputSize: 28));
            var loader = data.ProbeLoader(256, Compute.Cpu);
            var medians = Timing.Interleaved(repeats, () => PlainPass(model, loader), () => EntropyProbe.Measure(model, loader));
            double eval = medians[0], probe = medians[1];
            Console.WriteLine($"| {name} (width {width}) | {model.Slots.Count} | {images:N0} | {eval:F3} | {probe:F3} | {probe / eval:F3} |");
        }
        Console.WriteLine();
    }

    static void PlainPass(ZooModel model, BatchLoader loader)
    {
        model.Net.eval();
        using var noGrad = no_grad();
        foreach (var batch in loader.Epoch(0))
            using (batch)
            using (var scope = NewDisposeScope())
                model.Net.forward(batch.Inputs);
    }
}
