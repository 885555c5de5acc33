using DepthPrune.Deployment;
using DepthPrune.Export;
using DepthPrune.Methods;
using DepthPrune.Runtime;

namespace DepthPrune.Cli.Commands;

/// <summary>The table `compress` and the demo end with: the dense model against each deployed one,
/// every ONNX file timed side by side with the dense one in ONNX Runtime (the dense model exported as
/// any exporter would, RUN/dense.onnx).</summary>
static class CompressSummary
{
    /// <summary>One deployed model: its label, the run that chose it, what deploying it measured, and
    /// its ONNX Runtime latency against the dense model's at batch 1 and 64.</summary>
    public sealed record Column(string Label, RunRecord Run, DeploymentReport Deployed, IReadOnlyList<LatencyPoint> Latency)
    {
        public int Removed => Run.Iterations.FirstOrDefault(i => i.Iteration == Run.BestIteration)?.Removed ?? 0;
    }

    public static IReadOnlyList<Column> Measure(IReadOnlyList<(string Label, RunRecord Run, DeploymentReport Deployed)> deployed, string densePath, string denseOnnx, Compute compute)
    {
        var latency = DenseBaseline.Time(densePath, deployed.Select(d => d.Deployed.OnnxPath!), denseOnnx, compute, DeploySettings.DefaultLatencyRepeats);
        return deployed.Select((d, i) => new Column(d.Label, d.Run, d.Deployed, latency[i])).ToList();
    }

    public static object Json(Column c, string denseOnnx) => new
    {
        label = c.Label, method = c.Run.Method, recipe = c.Run.Recipe, removed = c.Removed, total = c.Run.Total,
        top1_dense = c.Run.DenseTop1, top1_deployed = c.Deployed.Test.Top1Candidate, depth_dense = c.Run.Dense!.Depth, depth_deployed = c.Deployed.Folded.Depth,
        macs_dense = c.Run.Dense.Macs, macs_deployed = c.Deployed.Folded.Macs, dense_onnx = denseOnnx, deployed_onnx = c.Deployed.OnnxPath,
        onnxruntime = c.Latency.Select(p => new { batch = p.Batch, threads = p.Threads, dense_ms = p.OriginalMs, deployed_ms = p.FoldedMs, ratio = p.Ratio }).ToList(),
        onnxruntime_imported_file = c.Deployed.Deployed.Where(p => p.Runtime == DeployedLatency.ImportedFile)
            .Select(p => new { batch = p.Batch, threads = p.Threads, file_ms = p.OriginalMs, deployed_ms = p.FoldedMs, ratio = p.Ratio }).ToList(),
    };

    public static void Print(TextWriter output, IReadOnlyList<Column> columns, string denseOnnx)
    {
        const int first = 22, width = 24;
        var dense = columns[0].Run;
        void Row(string name, string denseCell, Func<Column, string> cell) =>
            output.WriteLine($"{name,-first} {denseCell,width}" + string.Concat(columns.Select(c => $" {cell(c),width}")));
        output.WriteLine();
        Row("", "dense", c => c.Label);
        Row("removed", "", c => $"{c.Removed}/{c.Run.Total}");
        Row("test top-1", $"{dense.DenseTop1:F2}", c => $"{c.Deployed.Test.Top1Candidate:F2} ({c.Deployed.Test.Top1Candidate - c.Run.DenseTop1:+0.00;-0.00})");
        Row("depth", $"{dense.Dense!.Depth}", c => $"{c.Deployed.Folded.Depth}");
        Row("MACs per image", $"{dense.Dense.Macs:N0}", c => $"{c.Deployed.Folded.Macs:N0}");
        foreach (int batch in DeployedLatency.Batches)
            Row($"ONNX Runtime batch {batch}", $"{columns[0].Latency.Single(p => p.Batch == batch).OriginalMs:F3} ms",
                c => c.Latency.Single(p => p.Batch == batch) is var p ? $"{p.FoldedMs:F3} ms ({p.Ratio:F3}x)" : "");
        // An imported network: the user's own file against each deployed one (timed in the deploy step).
        foreach (var file in columns[0].Deployed.Deployed.Where(p => p.Runtime == DeployedLatency.ImportedFile))
            Row($"vs imported, batch {file.Batch}", $"{file.OriginalMs:F3} ms",
                c => c.Deployed.Deployed.FirstOrDefault(p => p.Runtime == file.Runtime && p.Batch == file.Batch) is { } p ? $"{p.FoldedMs:F3} ms ({p.Ratio:F3}x)" : "");
        Row("ONNX", Path.GetFileName(denseOnnx), c => Path.GetFileName(c.Deployed.OnnxPath!));
        var t = columns[0].Latency[0];
        output.WriteLine($"(ONNX files in {Path.GetDirectoryName(Path.GetFullPath(denseOnnx))}; each deployed model timed side by side with the dense one, {Threads(t.Threads)}, median of {DeploySettings.DefaultLatencyRepeats}; top-1 on the test split)");
    }

    /// <summary>"1 thread", "2 threads": how many threads a latency was timed with.</summary>
    public static string Threads(int n) => n == 1 ? "1 thread" : $"{n} threads";
}
