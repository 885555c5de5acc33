using System.Globalization;
using System.Text;
using System.Text.Json;
using DepthPrune.Methods;
using DepthPrune.Runtime;
using DepthPrune.Training;

namespace DepthPrune.Reporting;

/// <summary>report.md with its plots: one run's (written by every method run as iterations land),
/// or several runs compared (`depthprune report A B --out DIR`).</summary>
public static class RunReport
{
    public const string File = "report.md";

    public static RunRecord Load(string runDir)
    {
        string path = Path.Combine(runDir, MethodRun.Record);
        if (!System.IO.File.Exists(path)) throw new UsageException($"{runDir}: no run.json (not a method run folder)");
        try { return JsonSerializer.Deserialize<RunRecord>(System.IO.File.ReadAllText(path), Checkpoint.Json) ?? throw new DataFormatException($"{path}: empty"); }
        catch (JsonException e) { throw new DataFormatException($"{path}: not a run record ({e.Message})"); }
    }

    /// <summary>Writes RUN/report.md and RUN/plots/*.png (or into outDir); returns the report's path.</summary>
    public static string Write(string runDir, RunRecord run, string? outDir = null)
    {
        outDir ??= runDir;
        var md = new StringBuilder();
        md.AppendLine($"# {run.Method} on {run.Model} / {run.Dataset}").AppendLine();
        string dense = F(run.DenseTop1) + (run.DenseValTop1 is double v ? $" (validation {F(v)})" : "");
        md.AppendLine($"Dense top-1 {dense}. The run stops on the {run.StoppingSplit} split once {run.SelectionRule ?? $"top-1 falls more than {F(run.Tolerance)} points below dense"} no longer holds; the best model is the last for which it holds; " +
                      (run.Finished ? $"it finished: {run.StopReason}." : "it is still running (this report is rewritten after every iteration)."));
        var best = run.Iterations.FirstOrDefault(i => i.Iteration == run.BestIteration);
        md.AppendLine(best is null
            ? "No iteration is within tolerance yet."
            : $"Best: iteration {best.Iteration}, {best.Removed}/{best.Total} activations removed, test top-1 {F(best.Top1)}, depth {best.Depth} -> {best.LinearDepth} once folded, `{run.BestCheckpoint}`.");
        if (run.Final is { } final)
            md.AppendLine($"Final fine-tune of the best model: test top-1 {F(best?.Top1 ?? double.NaN)} -> {F(final.Top1)}" +
                (final.ValTop1 is double fv ? $" (validation {F(best?.ValTop1 ?? double.NaN)} -> {F(fv)})" : "") + (final.WithinTolerance ? ", kept." : ", not kept (the stopping split's top-1 fell)."));
        md.AppendLine($"Compute: {run.TotalImagesTrained:N0} images trained (dense model included), {run.TotalImagesProbed:N0} images probed, " +
            $"{run.TotalIterationSeconds:F0} s over {run.Iterations.Count} iterations" +
            (run.Iterations.Count(i => i.StoppedEarly is not null) is > 0 and int early ? $"; {early} fine-tune(s) stopped early once validation was back" : "") +
            (run.RolledBack.Count > 0 ? $"; {run.RolledBack.Count} iteration(s) rolled back ({string.Join("; ", run.RolledBack.Select(r => $"{r.Iteration}: {string.Join(", ", r.NewlyRemoved)} at {F(r.ValTop1 ?? r.Top1)}"))})" : "") + ".").AppendLine();
        string bounds = run.ToleranceConfidence == 0.5 ? "" : $" [{run.ToleranceConfidence:0.##%} bounds]";
        md.AppendLine($"| iteration | removed | test top-1 | vs dense{bounds} | validation top-1 | vs dense{bounds} | sparsity | depth (folded) | nonzero MACs | newly removed | |");
        md.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|");
        foreach (var i in (run.Dense is null ? run.Iterations : [run.Dense, .. run.Iterations]))
            md.AppendLine($"| {i.Iteration} | {i.Removed}/{i.Total} | {F(i.Top1)} | {Difference(i.TestDifference, run)} | {(i.ValTop1 is double val ? F(val) : "")} | {Difference(i.ValDifference, run)} | {i.Sparsity:P1} | {i.Depth} ({i.LinearDepth}) | " +
                          $"{i.NonzeroMacs:N0} | {string.Join(", ", i.NewlyRemoved)} | {(i.Iteration == run.BestIteration ? "best" : i.WithinTolerance ? "" : "below tolerance")} |");
        md.AppendLine();
        var reasons = run.Iterations.Concat(run.RolledBack).Where(i => i.Reason is not null).OrderBy(i => i.Iteration).ToList();
        if (reasons.Count > 0)
        {
            md.AppendLine($"Why each removal ({run.Objective} objective{(run.Payoff is { } p ? $", saving counted in {p}" : "")}):").AppendLine();
            foreach (var i in reasons)
                md.AppendLine($"* iteration {i.Iteration}{(run.RolledBack.Contains(i) ? " (rolled back)" : "")}: {string.Join(", ", i.NewlyRemoved)}: {i.Reason}");
            md.AppendLine();
        }

        var plots = new List<(string File, string Caption, byte[] Png)>();
        var one = new List<(string, RunRecord)> { (run.Method, run) };
        plots.Add(("top1.png", "Test top-1 against activations removed", RunPlots.AgainstRemoved(one, i => i.Top1, "Test top-1", "top-1 %")));
        plots.Add(("depth.png", "Depth once linear chains are folded", RunPlots.AgainstRemoved(one, i => i.LinearDepth, "Folded depth", "layers on the critical path")));
        if (run.Iterations.Count > 0)
            plots.Add(("entropy.png", "Layer entropy after each iteration (bits)", RunPlots.LayerHeatmap(run, i => i.Entropies, "Layer entropy H_l (grey: removed)", "bits", markRemoved: true)));
        if (run.Iterations.Any(i => i.Sparsity > 0))
            plots.Add(("sparsity.png", "Share of pruned weights per layer", RunPlots.LayerHeatmap(run, i => i.LayerSparsity, "Layer sparsity", "pruned share")));
        var folds = FoldSummary.All(runDir);
        if (folds.Count > 0)
        {
            md.AppendLine("Folded (latency: median of a test batch in libtorch, and of batches of 1 and 64 in ONNX Runtime; top-1 and agreement on the test split, after healing when there was any):").AppendLine();
            md.AppendLine("| checkpoint | policy | depth | MACs | latency ms | ONNX Runtime b1 ms | ONNX Runtime b64 ms | top-1 | healed | predictions agree | exact |");
            md.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---|---:|---|");
            foreach (var f in folds)
                md.AppendLine($"| {f.Checkpoint} | {f.Policy} | {f.DepthOriginal} -> {f.DepthFolded} | {f.MacsOriginal:N0} -> {f.MacsFolded:N0} | " +
                              $"{F(f.LatencyMsOriginal)} -> {F(f.LatencyMsFolded)} | {Onnx(f, 1)} | {Onnx(f, 64)} | {F(f.Top1Original)} -> {F(f.Top1Folded)} | " +
                              $"{(f.Top1Unhealed is double u ? $"{f.HealEpochs} epoch(s) from {F(u)}" : "no")} | {F(f.Agreement)}% | {(f.Exact ? "yes" : "no")} |");
            md.AppendLine();
            plots.Add(("fold.png", "Folded against original: latency and MACs", RunPlots.FoldRatios(folds)));
        }
        WritePlots(outDir, plots, md);
        string path = Path.Combine(outDir, File);
        AtomicFile.WriteText(path, md.ToString());
        return path;
    }

    /// <summary>"-0.42 [-0.81, -0.03]": a paired difference and its one-sided bounds at the run's confidence.</summary>
    static string Difference(PairedDifference? d, RunRecord run) => d is null ? ""
        : run.ToleranceConfidence == 0.5 ? d.Difference.ToString("+0.00;-0.00", CultureInfo.InvariantCulture)
        : string.Create(CultureInfo.InvariantCulture, $"{d.Difference:+0.00;-0.00} [{d.Lower:+0.00;-0.00}, {d.Upper:+0.00;-0.00}]");

    /// <summary>Several runs side by side: a table of each run's best model and the curves, one line per run.</summary>
    public static string Compare(IReadOnlyList<string> runDirs, string outDir)
    {
        var runs = runDirs.Select(d => (Label: Path.GetFileName(Path.GetFullPath(d).TrimEnd('/')), Dir: d, Run: Load(d))).ToList();
        var md = new StringBuilder();
        md.AppendLine($"# {runs.Count} runs compared").AppendLine();
        md.AppendLine("| run | method | model | data | dense top-1 | best iteration | removed | top-1 | sparsity | depth (folded) | images trained | deployed depth | deployed MACs | ONNX Runtime batch 1 vs dense | finished |");
        md.AppendLine("|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (var (label, dir, run) in runs)
        {
            var best = run.Iterations.FirstOrDefault(i => i.Iteration == run.BestIteration);
            // The best model's fold, when `fold` (or the run's --fold step) recorded one.
            var fold = run.BestCheckpoint is { } ckpt ? FoldSummary.All(dir).LastOrDefault(f => f.Checkpoint == Path.GetFileName(ckpt)) : null;
            string deployed = fold is null ? "| | |"
                : $"{fold.DepthFolded} | {fold.MacsFolded:N0} | " + (fold.VersusDense?.FirstOrDefault(p => p.Batch == 1) is { } b1 ? $"{b1.Ratio:F3}x |" : "|");
            md.AppendLine($"| {label} | {run.Method} | {run.Model} | {run.Dataset} | {F(run.DenseTop1)} | {run.BestIteration?.ToString(CultureInfo.InvariantCulture) ?? "none"} | " +
                          (best is null ? "| | | |" : $"{best.Removed}/{best.Total} | {F(best.Top1)} | {best.Sparsity:P1} | {best.Depth} ({best.LinearDepth}) |") +
                          $" {run.TotalImagesTrained:N0} | {deployed} {(run.Finished ? run.StopReason : "running")} |");
        }
        md.AppendLine();
        var curves = runs.Select(r => (r.Label, r.Run)).ToList();
        WritePlots(outDir,
        [
            ("top1.png", "Test top-1 against activations removed, one line per run", RunPlots.AgainstRemoved(curves, i => i.Top1, "Test top-1", "top-1 %")),
            ("depth.png", "Folded depth against activations removed", RunPlots.AgainstRemoved(curves, i => i.LinearDepth, "Folded depth", "layers on the critical path")),
        ], md);
        string path = Path.Combine(outDir, File);
        AtomicFile.WriteText(path, md.ToString());
        return path;
    }

    static void WritePlots(string outDir, IEnumerable<(string File, string Caption, byte[] Png)> plots, StringBuilder md)
    {
        foreach (var (file, caption, png) in plots)
        {
            AtomicFile.Write(Path.Combine(outDir, "plots", file), s => s.Write(png));
            md.AppendLine($"![{caption}](plots/{file})").AppendLine();
        }
    }

    static string Onnx(FoldSummary f, int batch) =>
        f.Deployed?.FirstOrDefault(p => p.Runtime == "onnxruntime" && p.Batch == batch) is { } p ? $"{p.OriginalMs:F3} -> {p.FoldedMs:F3} ({p.Ratio:F2}x)" : "-";

    static string F(double value) => value.ToString("F2", CultureInfo.InvariantCulture);
}
