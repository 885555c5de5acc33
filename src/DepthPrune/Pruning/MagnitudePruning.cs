using DepthPrune.Models;
using static TorchSharp.torch;

namespace DepthPrune.Pruning;

/// <summary>The rule "remove the k smallest-|w| remaining weights", per layer or globally.
/// It only updates masks; PruningMasks applies them.</summary>
public static class MagnitudePruning
{
    /// <summary>Prunes `amount` more weights of one layer, smallest |w| among those still kept.</summary>
    public static void PruneLayer(ZooModel model, PruningMasks masks, WeightNode layer, long amount)
    {
        if (amount <= 0) return;
        var mask = masks.Ensure(model, layer);
        using var scope = NewDisposeScope();
        var weight = model.Weight(layer).detach();
        // Pruned weights score +inf so they are never chosen again.
        var score = weight.abs().masked_fill(mask.logical_not(), double.PositiveInfinity).flatten();
        long kept = mask.count_nonzero().item<long>();
        long k = Math.Min(amount, kept);
        if (k == 0) return;
        var (_, order) = score.sort(stable: true);
        var prune = order[..(int)k];
        var flat = mask.flatten();
        flat.index_fill_(0, prune, false);
        masks.Set(layer.Module, flat.view(mask.shape).clone().DetachFromDisposeScope());
    }

    /// <summary>Global magnitude pruning (IMP): one |w| threshold over all given layers,
    /// pruning `fraction` of their remaining weights.</summary>
    public static void PruneGlobal(ZooModel model, PruningMasks masks, IReadOnlyList<WeightNode> layers, double fraction)
    {
        using var scope = NewDisposeScope();
        var scores = layers.Select(l =>
            model.Weight(l).detach().abs().masked_fill(masks.Ensure(model, l).logical_not(), double.PositiveInfinity).flatten()).ToList();
        var all = cat(scores);
        long remaining = all.isfinite().sum().item<long>();
        long k = (long)Math.Round(fraction * remaining);
        if (k == 0) return;
        var (_, order) = all.sort(stable: true);
        var pruneGlobal = zeros(all.shape[0], dtype: ScalarType.Bool).index_fill_(0, order[..(int)k], true);
        long offset = 0;
        for (int i = 0; i < layers.Count; i++)
        {
            long n = scores[i].shape[0];
            var mask = masks.Ensure(model, layers[i]);
            var updated = mask.flatten().logical_and(pruneGlobal.narrow(0, offset, n).logical_not()).view(mask.shape);
            masks.Set(layers[i].Module, updated.clone().DetachFromDisposeScope());
            offset += n;
        }
    }
}
