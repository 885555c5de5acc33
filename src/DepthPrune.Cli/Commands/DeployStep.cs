using DepthPrune.Data;
using DepthPrune.Deployment;
using DepthPrune.Models;
using DepthPrune.Reporting;
using DepthPrune.Runtime;
using DepthPrune.Training;

namespace DepthPrune.Cli.Commands;

/// <summary>Fold, record, print: a checkpoint's model deployed (Deployer), the result kept beside
/// its run's record (FoldSummary) and printed as `fold` prints it (unless output is null). With a
/// dense checkpoint (against), the ONNX file is also timed against that model's export.</summary>
static class DeployStep
{
    public static DeploymentReport Run(string checkpoint, ZooModel model, DataBundle data, DeploySettings settings, Compute compute,
        IProgress<TrainProgress>? progress, TextWriter? output, string? against = null)
    {
        DeploymentReport r;
        try { r = Deployer.Deploy(model, data, settings, compute, progress); }
        catch (NotSupportedException e) { throw new UsageException($"--checkpoint {checkpoint}: {e.Message}"); }
        if (against is not null && r.OnnxPath is not null)
            r = r with { VersusDense = DenseBaseline.Time(against, [r.OnnxPath], null, compute, settings.LatencyRepeats)[0] };
        string? runReport = FoldSummary.Record(checkpoint, settings.PolicyName, r);
        if (output is not null) FoldCommand.Print(output, model.Name, settings.PolicyName, data.Name, settings.LatencyRepeats, r, runReport, against);
        return r;
    }
}
