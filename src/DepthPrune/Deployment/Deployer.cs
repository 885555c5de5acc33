using DepthPrune.Data;
using DepthPrune.Export;
using DepthPrune.Folding;
using DepthPrune.Models;
using DepthPrune.Runtime;
using DepthPrune.Training;

namespace DepthPrune.Deployment;

/// <summary>How a model is deployed: the fold policy, the batch the comparison and the latency run
/// at, timed passes (median), where to write ONNX (none: not exported), and the healing fine-tune
/// of the folded network (null or 0 epochs: none).</summary>
public sealed record DeploySettings(FoldPolicy Policy, int BatchSize = 256, int LatencyRepeats = DeploySettings.DefaultLatencyRepeats, string? OnnxPath = null, TrainOptions? Heal = null)
{
    /// <summary>Batch-1 latencies of narrow models are a few tenths of a millisecond, and 20 passes
    /// gave medians 30% apart from run to run.</summary>
    public const int DefaultLatencyRepeats = 100;

    public string PolicyName => Policy.ToString().ToLowerInvariant();
}

/// <summary>One side of a fold: depth, parameters, dense MACs per image, median batch latency.</summary>
public sealed record NetworkCost(int Depth, long Parameters, long Macs, double LatencySeconds);

/// <summary>What deploying a model did, measured: the costs before and after folding, the merges,
/// the outputs on the test split against the original (after healing, when asked for; Unhealed is
/// the folded network before it), and (when written) the ONNX file checked against the folded
/// network in ONNX Runtime, with the runtimes' latencies; VersusDense, when asked for, times the ONNX
/// file against the dense model it came from (DenseBaseline).</summary>
public sealed record DeploymentReport(NetworkCost Original, NetworkCost Folded, IReadOnlyList<FoldStep> Merges, OutputComparison Test,
    string? OnnxPath, long OnnxBytes, OutputComparison? Onnx, IReadOnlyList<LatencyPoint> Deployed, OutputComparison? Unhealed = null, HealResult? Healing = null,
    IReadOnlyList<LatencyPoint>? VersusDense = null);

/// <summary>From a trained model to a deployed one: fold, heal, export, check, time. One service for
/// `fold`, the method commands' last step and the demo.</summary>
public static class Deployer
{
    /// <summary>The model as any exporter writes it: BatchNorms folded into their layers, nothing merged.</summary>
    public static Onnx.ModelProto Exported(ZooModel model, Compute compute) => OnnxExport.Build(Folder.Compile(model), model.Options, model.Name, compute.Device, model.InputName, model.OutputName);

    /// <summary>Throws NotSupportedException (naming the op) for a structure that does not run as written.</summary>
    public static DeploymentReport Deploy(ZooModel model, DataBundle data, DeploySettings settings, Compute compute, IProgress<TrainProgress>? progress = null)
    {
        var compiled = Folder.Compile(model);
        List<FoldStage> stages;
        List<FoldStep> merges;
        using (var times = settings.Policy == FoldPolicy.OnnxRuntime ? new OnnxLayerTimes(TorchSharp.torch.get_num_threads()) : null)
            (stages, merges) = Folder.Fold(compiled, settings.Policy, times);
        using var folded = new FoldedNet(stages);
        model.Net.eval();
        var before = ModelCost.Count(model.Net, model.Options, compute.Device);
        var after = ModelCost.Count(folded, model.Options, compute.Device);
        var loader = data.EvalLoader(data.Test, settings.BatchSize, compute);
        var test = FoldCheck.Compare(model.Net, folded, loader);
        OutputComparison? unhealed = null;
        HealResult? healing = null;
        if (settings.Heal is { Epochs: > 0 } heal)
        {
            unhealed = test;
            healing = FoldHealing.Heal(folded, model, data, heal, compute, progress);
            test = FoldCheck.Compare(model.Net, folded, loader);
        }
        (double Original, double Folded) latency;
        using (var first = loader.Epoch(0).First())
            latency = FoldCheck.Latency(model.Net, folded, first.Inputs, settings.LatencyRepeats);
        OutputComparison? onnx = null;
        long bytes = 0;
        if (settings.OnnxPath is { } onnxPath)
        {
            OnnxExport.Write(OnnxExport.Build(stages, model.Options, model.Name, compute.Device, model.InputName, model.OutputName), onnxPath);
            bytes = new FileInfo(onnxPath).Length;
            onnx = OnnxCheck.Compare(onnxPath, folded, loader);
        }
        return new DeploymentReport(
            new NetworkCost(model.Structure.Depth(), before.Parameters, before.Macs, latency.Original),
            new NetworkCost(Folder.Depth(stages), after.Parameters, after.Macs, latency.Folded),
            merges, test, settings.OnnxPath, bytes, onnx, DeployedLatency.Measure(model, compiled, folded, stages, compute.Device, settings.LatencyRepeats),
            unhealed, healing);
    }
}
