using DepthPrune.Data;
using DepthPrune.Export;
using DepthPrune.Models;
using DepthPrune.Runtime;
using DepthPrune.Training;

namespace DepthPrune.Folding;

/// <summary>One side of a fold: depth, parameters, dense MACs per image, median batch latency.</summary>
public sealed record NetworkCost(int Depth, long Parameters, long Macs, double LatencySeconds);

/// <summary>What folding a model did, measured: the costs before and after, the merges, the
/// outputs on the test split against the original (after healing, when asked for; Unhealed is
/// the folded network before it), and (when written) the ONNX file checked against the folded
/// network in ONNX Runtime.</summary>
public sealed record FoldReport(NetworkCost Original, NetworkCost Folded, IReadOnlyList<FoldStep> Merges, OutputComparison Test,
    string? OnnxPath, long OnnxBytes, OutputComparison? Onnx, IReadOnlyList<LatencyPoint> Deployed, OutputComparison? Unhealed = null, HealResult? Healing = null)
{
    /// <summary>Folds the model under the policy, heals the folded network when heal is given
    /// (epochs > 0), and measures everything on data's test split. Throws NotSupportedException
    /// (naming the op) for a structure that does not run as written.</summary>
    public static FoldReport Measure(ZooModel model, DataBundle data, FoldPolicy policy, Compute compute, int batchSize, int latencyRepeats, string? onnxPath,
        TrainOptions? heal = null, IProgress<TrainProgress>? progress = null)
    {
        var compiled = Folder.Compile(model);
        var (stages, merges) = Folder.Fold(compiled, policy);
        using var folded = new FoldedNet(stages);
        model.Net.eval();
        var before = ModelCost.Count(model.Net, model.Options, compute.Device);
        var after = ModelCost.Count(folded, model.Options, compute.Device);
        var loader = data.EvalLoader(data.Test, batchSize, compute);
        var test = FoldCheck.Compare(model.Net, folded, loader);
        OutputComparison? unhealed = null;
        HealResult? healing = null;
        if (heal is { Epochs: > 0 })
        {
            unhealed = test;
            healing = FoldHealing.Heal(folded, model, data, heal, compute, progress);
            test = FoldCheck.Compare(model.Net, folded, loader);
        }
        (double Original, double Folded) latency;
        using (var first = loader.Epoch(0).First())
            latency = FoldCheck.Latency(model.Net, folded, first.Inputs, latencyRepeats);
        OutputComparison? onnx = null;
        long bytes = 0;
        if (onnxPath is not null)
        {
            OnnxExport.Write(OnnxExport.Build(stages, model.Options, model.Name, compute.Device), onnxPath);
            bytes = new FileInfo(onnxPath).Length;
            onnx = OnnxCheck.Compare(onnxPath, folded, loader);
        }
        return new FoldReport(
            new NetworkCost(model.Structure.Depth(), before.Parameters, before.Macs, latency.Original),
            new NetworkCost(Folder.Depth(stages), after.Parameters, after.Macs, latency.Folded),
            merges, test, onnxPath, bytes, onnx, DeployedLatency.Measure(model, compiled, folded, stages, compute.Device, latencyRepeats),
            unhealed, healing);
    }
}
