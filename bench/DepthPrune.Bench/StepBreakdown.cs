using System.Diagnostics;
using System.Globalization;
using DepthPrune.Data;
using DepthPrune.Models;
using DepthPrune.Runtime;
using static TorchSharp.torch;

namespace DepthPrune.Bench;

/// <summary>Where a training step's time goes: the trainer's loop split into its parts (batch
/// built by the loader, zero_grad, forward, loss, backward, optimizer step, reading loss and
/// accuracy back, disposing the step's tensors), median ms per batch of 128 over several epochs.
/// Args: data-dir train-images epochs.</summary>
static class StepBreakdown
{
    public static void Run(string[] args)
    {
        string dataDir = args[0];
        int images = int.Parse(args[1], CultureInfo.InvariantCulture), epochs = int.Parse(args[2], CultureInfo.InvariantCulture);
        using var data = DataBundle.Load(new DataOptions("cifar10", dataDir, TrainSubset: images));
        Seeding.Seed(0);
        using var net = ModelZoo.Create("resnet18-cifar", new ModelOptions(Classes: 10, InChannels: 3, Width: 0.25, InputSize: 32));
        var loader = new BatchLoader(data.Train, 128, data.EvalPipeline, shuffle: true, seed: 0, Compute.Cpu);
        using var optimizer = optim.SGD(net.Net.parameters(), 0.01, 0.9, weight_decay: 1e-4);
        var parts = new Dictionary<string, List<double>>();
        var clock = new Stopwatch();
        void Lap(string part)
        {
            (parts.TryGetValue(part, out var list) ? list : parts[part] = []).Add(clock.Elapsed.TotalMilliseconds);
            clock.Restart();
        }
        net.Net.train();
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            clock.Restart();
            foreach (Batch batch in loader.Epoch(epoch))
            {
                Lap("batch built");
                using (batch)
                using (NewDisposeScope())
                {
                    optimizer.zero_grad(); Lap("zero_grad");
                    var logits = net.Net.forward(batch.Inputs); Lap("forward");
                    var loss = nn.functional.cross_entropy(logits, batch.Targets); Lap("loss");
                    loss.backward(); Lap("backward");
                    optimizer.step(); Lap("optimizer step");
                    _ = loss.item<float>() + logits.argmax(1).eq(batch.Targets).sum().item<long>(); Lap("loss and accuracy read");
                }
                Lap("step's tensors disposed");
            }
        }
        double total = parts.Values.Sum(Timing.MedianOf);
        Console.WriteLine($"ResNet-18 w0.25, CIFAR-10 batches of 128 (channels-last: {FirstBatchIsChannelsLast(loader)}), {get_num_threads()} threads, {epochs} epochs of {images:N0} images; median ms per batch:");
        foreach (var (part, ms) in parts)
            Console.WriteLine(FormattableString.Invariant($"  {part,-26} {Timing.MedianOf(ms),8:F2} ms  {Timing.MedianOf(ms) / total,6:P1}"));
    }

    static bool FirstBatchIsChannelsLast(BatchLoader loader)
    {
        using var first = loader.Epoch(0).First();
        return MemoryLayout.IsChannelsLast(first.Inputs);
    }
}
