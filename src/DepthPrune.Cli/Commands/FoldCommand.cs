using System.CommandLine;
using DepthPrune.Data;
using DepthPrune.Export;
using DepthPrune.Folding;
using DepthPrune.Models;
using DepthPrune.Runtime;
using DepthPrune.Training;

namespace DepthPrune.Cli.Commands;

/// <summary>Folds a checkpoint's linear chains into fewer real layers and measures the result
/// against the original: depth, parameters, MACs, latency, and outputs on the test set.</summary>
public static class FoldCommand
{
    public static Command Create(TextWriter output)
    {
        var command = new Command("fold", "Fold BatchNorms and linear chains (removed activations) into fewer real layers; measure depth, MACs, latency and output error");
        Option<string> checkpoint = CommonOptions.Checkpoint(), device = CommonOptions.Device();
        Option<string> policy = new("--policy") { Description = "exact: merge when exact and no more MACs; macs: when no more MACs (border error measured); depth: every chain", DefaultValueFactory = _ => "exact" };
        policy.Validators.Add(r => { if (ParsePolicy(r.GetValueOrDefault<string>()) is null) r.AddError($"--policy '{r.GetValueOrDefault<string>()}': expected exact, macs or depth"); });
        Option<int> batchSize = CommonOptions.Positive("--batch-size", "Batch size for the comparison and the latency measurement", 256);
        Option<int> repeats = CommonOptions.Positive("--latency-repeats", "Timed forward passes of each network (median)", 20);
        Option<string?> onnx = new("--onnx") { Description = "Also write the folded network as ONNX here, and check it against the folded network in ONNX Runtime on the test set" };
        Option<bool> json = CommonOptions.Json();
        foreach (var option in new Option[] { checkpoint, policy, batchSize, repeats, onnx }) command.Options.Add(option);
        var dataArgs = new DataArgs(command);
        command.Options.Add(json);
        command.Options.Add(device);
        command.SetAction(parsed =>
        {
            using var job = CheckpointOnData.Open(parsed, checkpoint, dataArgs, device);
            var (model, data, compute) = (job.Loaded.Model, job.Data, job.Compute);
            var chosen = ParsePolicy(parsed.GetValue(policy)!)!.Value;
            List<FoldStage> compiled;
            try { compiled = Folder.Compile(model); }
            catch (NotSupportedException e) { throw new UsageException($"--checkpoint {parsed.GetValue(checkpoint)}: {e.Message}"); }
            var (stages, steps) = Folder.Fold(compiled, chosen);
            using var folded = new FoldedNet(stages);
            model.Net.eval();
            var before = ModelCost.Count(model.Net, model.Options, compute.Device);
            var after = ModelCost.Count(folded, model.Options, compute.Device);
            var loader = data.EvalLoader(data.Test, parsed.GetValue(batchSize), compute);
            var error = FoldCheck.Compare(model.Net, folded, loader);
            var first = loader.Epoch(0).First();
            var (latencyBefore, latencyAfter) = FoldCheck.Latency(model.Net, folded, first.Inputs, parsed.GetValue(repeats));
            first.Dispose();
            string? onnxPath = parsed.GetValue(onnx);
            OutputComparison? onnxCheck = null;
            if (onnxPath is not null)
            {
                OnnxExport.Write(OnnxExport.Build(stages, model.Options, model.Name, compute.Device), onnxPath);
                onnxCheck = OnnxCheck.Compare(onnxPath, folded, loader);
            }
            var report = new
            {
                checkpoint = parsed.GetValue(checkpoint), model = model.Name, policy = parsed.GetValue(policy), dataset = data.Name,
                original = new { depth = model.Structure.Depth(), parameters = before.Parameters, macs = before.Macs, latency_ms = latencyBefore * 1000 },
                folded = new { depth = Folder.Depth(stages), parameters = after.Parameters, macs = after.Macs, latency_ms = latencyAfter * 1000 },
                batch_size = parsed.GetValue(batchSize),
                merges = steps.Select(s => new { first = s.First, second = s.Second, macs_apart = s.MacsApart, macs_merged = s.MacsMerged, exact = s.Exact }).ToList(),
                test = new
                {
                    samples = error.Samples, top1_original = error.Top1Reference, top1_folded = error.Top1Candidate, agreement = error.Agreement,
                    max_abs_difference = error.MaxAbsDifference, max_relative_difference = error.MaxRelativeDifference,
                },
                onnx = onnxCheck is null ? null : new
                {
                    path = onnxPath, bytes = new FileInfo(onnxPath!).Length, opset = OnnxExport.Opset, top1 = onnxCheck.Top1Candidate, agreement_with_folded = onnxCheck.Agreement,
                    max_abs_difference = onnxCheck.MaxAbsDifference, max_relative_difference = onnxCheck.MaxRelativeDifference,
                },
            };
            if (parsed.GetValue(json)) { output.WriteLine(JsonOut.Serialize(report)); return CliApp.Ok; }
            output.WriteLine($"fold: {model.Name}, policy {report.policy}, {steps.Count} merge(s); BatchNorms folded into their layers");
            output.WriteLine($"{"",-10} {"depth",6} {"params",12} {"MACs",15} {"ms/batch",9}");
            output.WriteLine($"{"original",-10} {report.original.depth,6} {report.original.parameters,12:N0} {report.original.macs,15:N0} {report.original.latency_ms,9:F2}");
            output.WriteLine($"{"folded",-10} {report.folded.depth,6} {report.folded.parameters,12:N0} {report.folded.macs,15:N0} {report.folded.latency_ms,9:F2}");
            foreach (var s in steps)
                output.WriteLine($"merged {s.First} -> {s.Second}: {s.MacsApart:N0} -> {s.MacsMerged:N0} MACs per output position{(s.Exact ? "" : ", not exact at the borders")}");
            output.WriteLine($"{data.Name} test set ({error.Samples:N0} images): top-1 {error.Top1Reference:F2} -> {error.Top1Candidate:F2}, predictions agree {error.Agreement:F2}%, " +
                $"max |output difference| {error.MaxAbsDifference:G3} ({error.MaxRelativeDifference:G3} of the largest output)");
            if (onnxCheck is not null)
                output.WriteLine($"ONNX: {onnxPath} ({report.onnx!.bytes:N0} bytes, opset {OnnxExport.Opset}); in ONNX Runtime: top-1 {onnxCheck.Top1Candidate:F2}, " +
                    $"predictions agree with the folded network on {onnxCheck.Agreement:F2}%, max |output difference| {onnxCheck.MaxAbsDifference:G3} ({onnxCheck.MaxRelativeDifference:G3} of the largest output)");
            return CliApp.Ok;
        });
        return command;
    }

    static FoldPolicy? ParsePolicy(string name) => name switch
    {
        "exact" => FoldPolicy.Exact,
        "macs" => FoldPolicy.Macs,
        "depth" => FoldPolicy.Depth,
        _ => null,
    };
}
