using DepthPrune.Data;
using DepthPrune.Models;
using DepthPrune.Pruning;
using DepthPrune.Runtime;
using DepthPrune.Training;
using TorchSharp;

namespace DepthPrune.Methods;

/// <summary>What every iteration measures of its model: top-1 on test and validation (and their
/// paired differences to the dense model on the same images), sparsity, parameters, MACs, depth.</summary>
sealed class IterationMeasurement(BatchLoader test, BatchLoader? validation, Compute compute, ToleranceRule rule)
{
    /// <summary>The dense model's per-image top-1 hits, the reference of every paired difference.</summary>
    public sealed record Hits(List<bool> Test, List<bool>? Validation);

    public BatchLoader? Validation => validation;

    /// <summary>Read from dense.ckpt, so a resumed run compares against exactly what a fresh one did.</summary>
    public Hits DenseHits(string densePath)
    {
        using var dense = Checkpoint.Load(densePath, compute);
        dense.Model.Net.to(compute.Device);
        return HitsOf(dense.Model, out _, out _);
    }

    Hits HitsOf(ZooModel model, out EvalResult testResult, out double? valTop1)
    {
        var testHits = new List<bool>();
        testResult = Evaluation.Run(model, test, testHits);
        List<bool>? valHits = validation is null ? null : [];
        valTop1 = validation is null ? null : Evaluation.Run(model, validation, valHits).Top1;
        return new Hits(testHits, valHits);
    }

    public IterationRecord Measure(ZooModel model, int k, List<string> newly, Dictionary<string, double> entropies, double seconds, string checkpoint, Hits? dense = null)
    {
        var hits = HitsOf(model, out var testResult, out double? valTop1);
        var cost = ModelCost.Measure(model, compute.Device);
        var layerSparsity = new Dictionary<string, double>();
        long zeros = 0, total = 0;
        foreach (var layer in model.Structure.PruningPairs().Select(p => p.Layer).DistinctBy(l => l.Module))
        {
            var w = model.Weight(layer);
            long nz = w.count_nonzero().item<long>();
            layerSparsity[layer.Module] = 1 - (double)nz / w.numel();
            zeros += w.numel() - nz;
            total += w.numel();
        }
        return new IterationRecord
        {
            Iteration = k, Removed = Linearize.RemovedCount(model), Total = model.Slots.Count,
            RemovedNames = model.Structure.Activations.Where(n => model.Slots[n].IsLinear).ToList(), NewlyRemoved = newly,
            Top1 = testResult.Top1, ValTop1 = valTop1, Loss = testResult.Loss, Sparsity = total == 0 ? 0 : (double)zeros / total,
            LayerSparsity = layerSparsity, Entropies = entropies, Params = cost.Parameters, NonzeroParams = cost.NonzeroParameters,
            Macs = cost.Macs, NonzeroMacs = cost.NonzeroMacs, Depth = cost.Depth, LinearDepth = cost.LinearDepth,
            WithinTolerance = true, Seconds = seconds, Checkpoint = checkpoint,
            TestDifference = dense is null ? null : rule.Compare(hits.Test, dense.Test),
            ValDifference = dense?.Validation is null || hits.Validation is null ? null : rule.Compare(hits.Validation, dense.Validation),
        };
    }
}
