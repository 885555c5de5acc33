using System.CommandLine;
using DepthPrune.Data;
using DepthPrune.Deployment;
using DepthPrune.Export;
using DepthPrune.Folding;
using DepthPrune.Methods;
using DepthPrune.Models;
using DepthPrune.Runtime;
using DepthPrune.Training;

namespace DepthPrune.Cli.Commands;

/// <summary>Folds a checkpoint's linear chains into fewer real layers and measures the result
/// against the original: depth, parameters, MACs, latency, and outputs on the test set.</summary>
public static class FoldCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var command = new Command("fold", "Fold BatchNorms and linear chains (removed activations) into fewer real layers; measure depth, MACs, latency and output error");
        Option<string> checkpoint = CommonOptions.Checkpoint(), device = CommonOptions.Device();
        Option<string> policy = new("--policy") { Description = "exact: merge when exact and no more MACs; macs: when no more MACs (border error measured); depth: every chain; onnxruntime: as the layers time fastest in ONNX Runtime at batch 1 (each candidate layer timed)", DefaultValueFactory = _ => "exact" };
        policy.Validators.Add(r => { if (ParsePolicy(r.GetValueOrDefault<string>()) is null) r.AddError($"--policy '{r.GetValueOrDefault<string>()}': expected exact, macs, depth or onnxruntime"); });
        Option<int> batchSize = CommonOptions.Positive("--batch-size", "Batch size for the comparison and the latency measurement", 256);
        Option<int> repeats = CommonOptions.Positive("--latency-repeats", "Timed forward passes of each network (median); sub-millisecond batch-1 timings need many", DeploySettings.DefaultLatencyRepeats);
        Option<string> onnx = PathOptions.OutputFile("--onnx", "Also write the folded network as ONNX here, and check it against the folded network in ONNX Runtime on the test set", required: false, ".onnx");
        Option<string> against = PathOptions.InputFile("--against", "Also time the ONNX file in ONNX Runtime against this checkpoint exported as any exporter would (the dense model the run started from, say): the latency deploying saves; needs --onnx", required: false);
        var (healEpochs, healLr) = HealOptions();
        Option<bool> json = CommonOptions.Json();
        foreach (var option in new Option[] { checkpoint, policy, batchSize, repeats, onnx, against, healEpochs, healLr }) command.Options.Add(option);
        var dataArgs = new DataArgs(command);
        command.Options.Add(json);
        command.Options.Add(device);
        command.SetAction(parsed =>
        {
            using var job = CheckpointOnData.Open(parsed, checkpoint, dataArgs, device);
            var (model, data, compute) = (job.Loaded.Model, job.Data, job.Compute);
            var heal = new TrainOptions { Epochs = parsed.GetValue(healEpochs), LearningRate = parsed.GetValue(healLr), Seed = job.Loaded.Meta.Data?.Seed ?? 0 };
            var settings = new DeploySettings(ParsePolicy(parsed.GetValue(policy)!)!.Value, parsed.GetValue(batchSize), parsed.GetValue(repeats), parsed.GetValue(onnx), heal);
            bool asJson = parsed.GetValue(json);
            string? densePath = parsed.GetValue(against);
            if (densePath is not null)
            {
                if (settings.OnnxPath is null) throw new UsageException("--against: needs --onnx (the folded network is timed as an ONNX file)");
                DenseBaseline.RequireSameInput("--against", densePath, model.Options);
            }
            var r = DeployStep.Run(parsed.GetValue(checkpoint)!, model, data, settings, compute, new ConsoleProgress(error, asJson), asJson ? null : output, densePath);
            if (!asJson) return CliApp.Ok;
            var report = new
            {
                checkpoint = parsed.GetValue(checkpoint), model = model.Name, policy = parsed.GetValue(policy), dataset = data.Name,
                original = Cost(r.Original), folded = Cost(r.Folded), batch_size = parsed.GetValue(batchSize),
                latency = r.Deployed.Select(p => new { runtime = p.Runtime, batch = p.Batch, threads = p.Threads, original_ms = p.OriginalMs, folded_ms = p.FoldedMs, ratio = p.Ratio }).ToList(),
                against = r.VersusDense is null ? null : new
                {
                    checkpoint = densePath,
                    onnxruntime = r.VersusDense.Select(p => new { batch = p.Batch, threads = p.Threads, dense_ms = p.OriginalMs, folded_ms = p.FoldedMs, ratio = p.Ratio }).ToList(),
                },
                merges = r.Merges.Select(s => new { first = s.First, second = s.Second, macs_apart = s.MacsApart, macs_merged = s.MacsMerged, exact = s.Exact }).ToList(),
                test = new
                {
                    samples = r.Test.Samples, top1_original = r.Test.Top1Reference, top1_folded = r.Test.Top1Candidate, agreement = r.Test.Agreement,
                    max_abs_difference = r.Test.MaxAbsDifference, max_relative_difference = r.Test.MaxRelativeDifference,
                },
                healing = r.Healing is not { } h ? null : new
                {
                    epochs = h.Epochs, learning_rate = h.LearningRate, diverged_rates = h.Diverged, lowered_rates = h.Lowered, judged_on = h.Split, judged_top1_before = h.Top1Before, judged_top1_after = h.Top1After, kept = h.Kept,
                    test_top1_before = r.Unhealed!.Top1Candidate, test_top1_after = r.Test.Top1Candidate,
                },
                onnx = r.Onnx is null ? null : new
                {
                    path = r.OnnxPath, bytes = r.OnnxBytes, opset = OnnxExport.Opset, top1 = r.Onnx.Top1Candidate, agreement_with_folded = r.Onnx.Agreement,
                    max_abs_difference = r.Onnx.MaxAbsDifference, max_relative_difference = r.Onnx.MaxRelativeDifference,
                },
            };
            output.WriteLine(JsonOut.Serialize(report));
            return CliApp.Ok;
        });
        return command;
    }

    /// <summary>--heal-epochs and --heal-lr, shared with the method commands' final fold.</summary>
    public static (Option<int> Epochs, Option<double> Lr) HealOptions(int epochs = 0, double lr = Recipe.GentleHealRate) => (
        NumberOptions.WithDefault("--heal-epochs", "Fine-tune the folded network this many epochs on the training split before measuring it (0: no healing)", epochs, v => v >= 0, "must be >= 0"),
        NumberOptions.WithDefault("--heal-lr", "Learning rate of the healing fine-tune (SGD, momentum 0.9, cosine); the folded network has no BatchNorm, so keep it low", lr, v => v is > 0 and <= 100, "must lie in (0,100]"));

    public static void Print(TextWriter output, string modelName, string policy, string dataset, int repeats, DeploymentReport r, string? runReport, string? against = null)
    {
        output.WriteLine($"fold: {modelName}, policy {policy}, {r.Merges.Count} merge(s); BatchNorms folded into their layers");
        output.WriteLine($"{"",-10} {"depth",6} {"params",12} {"MACs",15} {"ms/batch",9}");
        output.WriteLine($"{"original",-10} {r.Original.Depth,6} {r.Original.Parameters,12:N0} {r.Original.Macs,15:N0} {r.Original.LatencySeconds * 1000,9:F2}");
        output.WriteLine($"{"folded",-10} {r.Folded.Depth,6} {r.Folded.Parameters,12:N0} {r.Folded.Macs,15:N0} {r.Folded.LatencySeconds * 1000,9:F2}");
        foreach (var p in r.Deployed)
            output.WriteLine($"{p.Runtime,-12} batch {p.Batch,3}: {p.OriginalMs,8:F3} -> {p.FoldedMs,8:F3} ms ({p.Ratio:F3}x), {CompressSummary.Threads(p.Threads)}, median of {repeats}");
        foreach (var p in r.VersusDense ?? [])
            output.WriteLine($"against the dense model {against}, onnxruntime batch {p.Batch,3}: {p.OriginalMs,8:F3} -> {p.FoldedMs,8:F3} ms ({p.Ratio:F3}x)");
        foreach (var s in r.Merges)
            output.WriteLine($"merged {s.First} -> {s.Second}: {s.MacsApart:N0} -> {s.MacsMerged:N0} MACs per image{(s.Exact ? "" : ", not exact at the borders")}");
        if (r.Healing is { } h) output.WriteLine(HealLine(h, r));
        output.WriteLine(TestLine(dataset, r));
        if (r.Onnx is not null) output.WriteLine(OnnxLine(r));
        if (runReport is not null) output.WriteLine($"report: {runReport}");
    }

    static string HealLine(HealResult h, DeploymentReport r)
    {
        var failed = new List<string>();
        if (h.Diverged > 0) failed.Add($"{h.Diverged} diverged");
        if (h.Lowered > 0) failed.Add($"{h.Lowered} lowered {h.Split} top-1");
        string rates = failed.Count == 0 ? "" : $" (higher rates, each ten times the next: {string.Join(", ", failed)})";
        string judged = $"{h.Split} top-1 {h.Top1Before:F2} -> {h.Top1After:F2}";
        string outcome = double.IsNaN(h.Top1After) ? "diverged, so undone: the folded weights are kept"
            : h.Kept ? $"{judged}, kept; test top-1 {r.Unhealed!.Top1Candidate:F2} -> {r.Test.Top1Candidate:F2}"
            : $"{judged}, lower, so undone: the folded weights are kept";
        return $"healed {h.Epochs} epoch(s) at lr {h.LearningRate:G3} on the training split{rates}: {outcome}";
    }

    static object Cost(NetworkCost c) => new { depth = c.Depth, parameters = c.Parameters, macs = c.Macs, latency_ms = c.LatencySeconds * 1000 };

    public static string TestLine(string dataset, DeploymentReport r) =>
        $"{dataset} test set ({r.Test.Samples:N0} images): top-1 {r.Test.Top1Reference:F2} -> {r.Test.Top1Candidate:F2}, predictions agree {r.Test.Agreement:F2}%, " +
        $"max |output difference| {r.Test.MaxAbsDifference:G3} ({r.Test.MaxRelativeDifference:G3} of the largest output)";

    public static string OnnxLine(DeploymentReport r) =>
        $"ONNX: {r.OnnxPath} ({r.OnnxBytes:N0} bytes, opset {OnnxExport.Opset}); in ONNX Runtime: top-1 {r.Onnx!.Top1Candidate:F2}, " +
        $"predictions agree with the folded network on {r.Onnx.Agreement:F2}%, max |output difference| {r.Onnx.MaxAbsDifference:G3} ({r.Onnx.MaxRelativeDifference:G3} of the largest output)";

    public static FoldPolicy? ParsePolicy(string name) => name switch
    {
        "exact" => FoldPolicy.Exact,
        "macs" => FoldPolicy.Macs,
        "depth" => FoldPolicy.Depth,
        "onnxruntime" => FoldPolicy.OnnxRuntime,
        _ => null,
    };
}
