using DepthPrune.Data;
using DepthPrune.Deployment;
using DepthPrune.Models;
using DepthPrune.Reporting;
using DepthPrune.Runtime;
using DepthPrune.Training;

namespace DepthPrune.Cli.Commands;

/// <summary>Fold, record, print: a checkpoint's model deployed (Deployer), the result kept beside
/// its run's record (FoldSummary) and printed as `fold` prints it (unless output is null).</summary>
static class DeployStep
{
    public static DeploymentReport Run(string checkpoint, ZooModel model, DataBundle data, DeploySettings settings, Compute compute,
        IProgress<TrainProgress>? progress, TextWriter? output)
    {
        DeploymentReport r;
        try { r = Deployer.Deploy(model, data, settings, compute, progress); }
        catch (NotSupportedException e) { throw new UsageException($"--checkpoint {checkpoint}: {e.Message}"); }
        string? runReport = FoldSummary.Record(checkpoint, settings.PolicyName, r);
        if (output is not null) FoldCommand.Print(output, model.Name, settings.PolicyName, data.Name, settings.LatencyRepeats, r, runReport);
        return r;
    }
}
