using System.Text.Json;
using DepthPrune.Deployment;
using DepthPrune.Runtime;
using DepthPrune.Training;

namespace DepthPrune.Reporting;

/// <summary>What `fold` measured for one checkpoint of a run, kept beside run.json as
/// fold-&lt;checkpoint&gt;-&lt;policy&gt;.json so the run's report shows it.</summary>
public sealed record FoldSummary(string Checkpoint, string Policy, int DepthOriginal, int DepthFolded, long MacsOriginal, long MacsFolded,
    double LatencyMsOriginal, double LatencyMsFolded, double Top1Original, double Top1Folded, double Agreement, bool Exact,
    int HealEpochs = 0, double? Top1Unhealed = null, IReadOnlyList<Export.LatencyPoint>? Deployed = null, IReadOnlyList<Export.LatencyPoint>? VersusDense = null)
{
    const string Prefix = "fold-";

    public static FoldSummary From(string checkpoint, string policy, DeploymentReport r) => new(
        Path.GetFileName(checkpoint), policy, r.Original.Depth, r.Folded.Depth, r.Original.Macs, r.Folded.Macs,
        r.Original.LatencySeconds * 1000, r.Folded.LatencySeconds * 1000, r.Test.Top1Reference, r.Test.Top1Candidate, r.Test.Agreement,
        r.Merges.All(m => m.Exact), r.Healing?.Epochs ?? 0, r.Unhealed?.Top1Candidate, r.Deployed, r.VersusDense);

    /// <summary>When the checkpoint belongs to a method run, stores the summary and rewrites the run's
    /// report; returns that report's path, or null for a checkpoint outside a run.</summary>
    public static string? Record(string checkpoint, string policy, DeploymentReport r)
    {
        string runDir = Path.GetDirectoryName(Path.GetFullPath(checkpoint))!;
        if (!File.Exists(Path.Combine(runDir, Methods.MethodRun.Record))) return null;
        var summary = From(checkpoint, policy, r);
        AtomicFile.WriteText(Path.Combine(runDir, $"{Prefix}{Path.GetFileNameWithoutExtension(checkpoint)}-{policy}.json"),
            JsonSerializer.Serialize(summary, Training.Checkpoint.Json));
        return RunReport.Write(runDir, RunReport.Load(runDir));
    }

    public static IReadOnlyList<FoldSummary> All(string runDir) =>
        Directory.GetFiles(runDir, Prefix + "*.json").Order(StringComparer.Ordinal)
            .Select(f => JsonSerializer.Deserialize<FoldSummary>(File.ReadAllText(f), Training.Checkpoint.Json)!)
            .ToList();
}
