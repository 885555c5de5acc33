using DepthPrune.Methods;
using DepthPrune.Models;
using DepthPrune.Runtime;

namespace DepthPrune.Bench;

/// <summary>Where MACs mislead the latency objective: MobileNetV2 (CIFAR, width 0.25, a 28x28
/// Fashion-MNIST image), each inverted-residual block made linear alone (both ReLU6), its fold's
/// saving counted in MACs and timed in ONNX Runtime at batch 1 (RuntimeFoldCost: the folded
/// network against the dense one, interleaved; median of `repeats` measurements). Weights are
/// seeded, not trained: neither count nor time depends on their values.</summary>
static class PayoffBench
{
    static ZooModel Model()
    {
        Seeding.Seed(1);
        return ModelZoo.Create("mobilenetv2-cifar", new ModelOptions(Classes: 10, InChannels: 1, Width: 0.25, InputSize: 28));
    }

    /// <summary>EASIER's decision under --payoff onnxruntime, `rounds` times over, as a long run
    /// makes it: libtorch folds between ONNX Runtime timings. Run under MALLOC_CHECK_=3, it is the
    /// check that TorchSharp's unrooted call arguments are not finalized mid-call (RuntimeFoldCost).</summary>
    public static void Stress(int rounds)
    {
        using var model = Model();
        var remaining = model.Structure.Activations.ToList();
        for (int r = 0; r < rounds; r++)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var units = FoldPayoff.RemovalUnits(model, remaining, FoldPayoff.Cost(model, PayoffMeasure.OnnxRuntime));
            var best = units.MaxBy(u => u.SavingPerRemoval)!;
            Console.WriteLine($"round {r + 1}/{rounds}: {units.Count} units, best {best.Slots[0]} ({best.SavingPerRemoval:F0}/1000 per removal), {clock.Elapsed.TotalSeconds:F1} s");
        }
    }

    public static void Run(int repeats)
    {
        using var model = Model();
        var macs = new MacsCost(model);
        var timed = new RuntimeFoldCost(model);
        var blocks = model.Structure.Activations.GroupBy(s => string.Join(".", s.Split('.').Take(2)))
            .Where(g => g.Count() == 2).Select(g => (Block: g.Key, Slots: g.ToList())).ToList();
        Console.WriteLine($"mobilenetv2-cifar w0.25 at 28x28, {TorchSharp.torch.get_num_threads()} threads; saving when the block alone is linear:");
        var rows = new List<(string Block, double Macs, double Time)>();
        foreach (var (block, slots) in blocks)
        {
            double macSaving = 1 - Linearize.WithIdentity(model, slots, () => macs.Of(model)) / macs.Baseline;
            var times = Enumerable.Range(0, repeats).Select(_ => 1 - Linearize.WithIdentity(model, slots, () => timed.Of(model)) / timed.Baseline).Order().ToList();
            rows.Add((block, macSaving, times[times.Count / 2]));
            Console.WriteLine($"  {block,-12} MACs {macSaving,7:P1}   ONNX Runtime batch 1 {times[times.Count / 2],7:P1}   (runs: {string.Join(", ", times.Select(t => t.ToString("P1")))})");
        }
        static List<string> Rank(IEnumerable<(string Block, double Saving)> r) => r.OrderByDescending(x => x.Saving).Select(x => x.Block).ToList();
        Console.WriteLine($"  by MACs: {string.Join(" ", Rank(rows.Select(r => (r.Block, r.Macs))))}");
        Console.WriteLine($"  by time: {string.Join(" ", Rank(rows.Select(r => (r.Block, r.Time))))}");
    }
}
