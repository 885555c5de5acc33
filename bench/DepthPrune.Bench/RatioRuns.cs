using DepthPrune.Export;
using DepthPrune.Models;

namespace DepthPrune.Bench;

/// <summary>A folded graph timed against its dense graph in ONNX Runtime `repeats` times (2 threads,
/// 300 interleaved passes each), one line per batch size: layers before and after, the median ratio
/// and every run's.</summary>
static class RatioRuns
{
    public static void Print(string label, Onnx.ModelProto dense, Onnx.ModelProto folded, ModelOptions options, int repeats)
    {
        var runs = Enumerable.Range(0, repeats).Select(_ => OnnxPairTiming.Compare(dense, folded, options, 2, 300)).ToList();
        foreach (int batch in DeployedLatency.Batches)
        {
            var ratios = runs.Select(r => r.Single(p => p.Batch == batch).Ratio).Order().ToList();
            var first = runs[0].Single(p => p.Batch == batch);
            Console.WriteLine($"{label}: batch {batch,2}: {first.OriginalLayers} -> {first.FoldedLayers} weight layers, " +
                $"ONNX Runtime median ratio {ratios[ratios.Count / 2]:F3} (runs: {string.Join(", ", ratios.Select(r => r.ToString("F3")))})");
        }
    }
}
