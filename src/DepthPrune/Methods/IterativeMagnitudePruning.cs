using DepthPrune.Pruning;

namespace DepthPrune.Methods;

/// <summary>IMP baseline: global magnitude pruning of zeta of the remaining weights over the
/// same layers EGP prunes. Layers that reach zero entropy are linearized, as in every method.</summary>
public sealed class IterativeMagnitudePruning : DepthMethod
{
    public override string Name => "imp";
    public override bool Prunes => true;

    public override IReadOnlyList<string>? Before(MethodContext c)
    {
        var removed = Linearize.ZeroEntropyLayers(c.Model, c.Entropies);
        var layers = c.Model.Structure.PruningPairs().Select(p => p.Layer).DistinctBy(l => l.Module).ToList();
        foreach (var layer in layers) c.Masks.Ensure(c.Model, layer);
        long remaining = layers.Sum(l => c.Masks.Remaining(l.Module));
        if (remaining == 0) return removed.Count > 0 ? removed : null;
        MagnitudePruning.PruneGlobal(c.Model, c.Masks, layers, c.Options.PruneRatio);
        DeadBranches.Prune(c.Model, c.Masks);   // also applies every mask to the weights
        return removed;
    }
}
