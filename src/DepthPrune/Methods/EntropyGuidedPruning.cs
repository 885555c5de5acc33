using DepthPrune.Entropy;
using DepthPrune.Models;
using DepthPrune.Pruning;

namespace DepthPrune.Methods;

/// <summary>EGP and NEPENTHE (docs/METHODS.md, "EGP and NEPENTHE"): zero-entropy layers are linearized and leave
/// the candidates; the budget zeta * remaining weights is shared by softmax((sum I)/I_l) with
/// caps, and each candidate loses its smallest remaining weights. NEPENTHE also removes the
/// always-OFF neurons of candidate layers: their output is held at 0 and the weights feeding
/// them are pruned. Under the latency objective each iteration also prunes away whole the
/// lowest-entropy candidate whose removal lets folding save MACs; in a residual block that is the
/// block's whole main path with its BatchNorms, so the block is its shortcut. Its weights count
/// against the iteration's budget; what is left of it is shared among the others.</summary>
public sealed class EntropyGuidedPruning(bool nepenthe) : DepthMethod
{
    public override string Name => nepenthe ? "nepenthe" : "egp";
    public override bool Prunes => true;
    /// <summary>Under the latency objective it chooses which residual branch goes: one that failed can be kept.</summary>
    public override bool ChoosesRemovals(MethodOptions options) => options.Objective == RemovalObjective.Latency;

    public override IReadOnlyList<string>? Before(MethodContext c)
    {
        var removed = Linearize.ZeroEntropyLayers(c.Model, c.Entropies);
        var byName = c.Entropies.ToDictionary(e => e.Name);
        var pairs = c.Model.Structure.PruningPairs().Where(p => !c.Model.Slots[p.Slot].IsLinear).ToList();
        if (nepenthe) foreach (var pair in pairs) RemoveDeadNeurons(c, pair, byName[pair.Slot].OnFraction);

        var candidates = new List<BudgetCandidate>();
        foreach (var pair in pairs)
        {
            var mask = c.Masks.Ensure(c.Model, pair.Layer);
            long remaining = c.Masks.Remaining(pair.Layer.Module);
            if (remaining == 0) continue;
            using var kept = c.Model.Weight(pair.Layer).detach().abs().masked_select(mask);
            double meanAbs = kept.mean().item<float>();
            candidates.Add(new BudgetCandidate(pair.Layer.Module, byName[pair.Slot].Entropy * meanAbs, remaining));
        }
        if (candidates.Count == 0) return removed.Count > 0 ? removed : null;
        long spent = 0;
        if (c.Options.Objective == RemovalObjective.Latency && PayingLayer(c, pairs, candidates, byName) is { } whole)
        {
            // In a residual block the whole main path goes, BatchNorm shifts included: the block
            // becomes its shortcut, so the ReLU after the add sees what the shortcut carries.
            var block = BlockOf(c.Model, whole.Layer);
            if (block is null) MagnitudePruning.PruneLayer(c.Model, c.Masks, whole.Layer, c.Masks.Remaining(whole.Layer.Module));
            else
            {
                c.Masks.RemoveBranch(c.Model, block);
                // The branch's own activations see constants and feed nothing now: removing them is
                // exact, and names the branch, which a roll-back then keeps (--retries).
                foreach (string slot in InnerSlots(block).Where(s => !c.Model.Slots[s].IsLinear))
                {
                    c.Model.Slots[slot].SetIdentity();
                    removed.Add(slot);
                }
            }
            var gone = block is null ? [whole.Layer.Module] : new Structure(block.Main).WeightLayers.Select(l => l.Module).ToHashSet();
            spent = candidates.Where(k => gone.Contains(k.Layer)).Sum(k => k.Remaining);
            candidates.RemoveAll(k => gone.Contains(k.Layer));
        }
        var amounts = PruningBudget.Allocate(candidates, c.Options.PruneRatio, c.Options.ShareTemperature, spent);
        foreach (var pair in pairs.Where(p => amounts.ContainsKey(p.Layer.Module)))
            MagnitudePruning.PruneLayer(c.Model, c.Masks, pair.Layer, amounts[pair.Layer.Module]);
        DeadBranches.Prune(c.Model, c.Masks);   // also applies every mask to the weights
        return removed;
    }

    /// <summary>The lowest-entropy candidate (then lowest importance) whose removal lets folding
    /// save MACs, if any; with a damage sample, the one among the lowest-entropy such candidates
    /// (as many as half the candidates, at least two) whose removal linearizes the most
    /// activations, and among those costs the least loss.</summary>
    static PruningPair? PayingLayer(MethodContext c, IReadOnlyList<PruningPair> pairs, IReadOnlyList<BudgetCandidate> candidates,
        IReadOnlyDictionary<string, LayerEntropy> entropies)
    {
        long baseline = FoldPayoff.FoldedMacs(c.Model);
        var paying = candidates.Select(k => (Candidate: k, Pair: pairs.First(p => p.Layer.Module == k.Layer)))
            .Where(k => !Kept(c, k.Pair))
            .OrderBy(k => entropies[k.Pair.Slot].Entropy).ThenBy(k => k.Candidate.Importance)
            .Where(k => FoldPayoff.OfPruningAway(c.Model, k.Pair.Layer, baseline) > 0)
            .Select(k => k.Pair);
        if (c.DamageSample is not { } sample) return paying.FirstOrDefault();
        var window = paying.Take(Math.Max(2, candidates.Count / 2)).ToList();   // folds only as far as it needs
        if (window.Count == 0) return null;
        c.ImagesEvaluated += 2L * window.Count * sample.Set.Count;
        // The most activations linearized first (that is the depth gained), then the least loss.
        return window.Select(p => (Pair: p, Effect: RemovalDamage.Without(c.Model, GoneWith(c.Model, p.Layer), sample)))
            .OrderByDescending(e => e.Effect.Linearized).ThenBy(e => e.Effect.Loss).First().Pair;
    }

    /// <summary>The modules that go when a layer is pruned away: in a residual block, its whole main
    /// path with the BatchNorms; elsewhere the layer alone.</summary>
    static IReadOnlyList<string> GoneWith(ZooModel model, WeightNode layer) =>
        BlockOf(model, layer) is { } block
            ? new Structure(block.Main).WeightLayers.SelectMany(l => l.Norm is null ? [l.Module] : new[] { l.Module, l.Norm }).ToList()
            : [layer.Module];

    static IReadOnlyList<string> InnerSlots(ResidualNode block) => new Structure(block.Main).Activations;

    /// <summary>Whether a failed, undone removal kept this layer's residual branch.</summary>
    static bool Kept(MethodContext c, PruningPair pair) => BlockOf(c.Model, pair.Layer) is { } block && InnerSlots(block).Any(c.Kept.Contains);

    static ResidualNode? BlockOf(ZooModel model, WeightNode layer) => model.Structure.Walk().OfType<ResidualNode>()
        .LastOrDefault(r => new Structure(r.Main).WeightLayers.Any(l => l.Module == layer.Module));

    /// <summary>Neurons that were OFF on every observation: zero their slot output and prune the
    /// weights that feed them (output rows of the paired conv/linear).</summary>
    static void RemoveDeadNeurons(MethodContext c, PruningPair pair, double[] onFraction)
    {
        var slot = c.Model.Slots[pair.Slot];
        var weight = c.Model.Weight(pair.Layer);
        if (weight.shape[0] != onFraction.Length) return;   // not a one-to-one channel pairing
        // Once dead, a neuron stays dead (its pruned input may now sit above zero).
        float[] alive = onFraction.Select((p, i) => (slot.Alive?[i] ?? 1f) == 0f || p == 0 ? 0f : 1f).ToArray();
        if (alive.All(a => a == 1f)) return;
        slot.SetAlive(alive);
        var mask = c.Masks.Ensure(c.Model, pair.Layer);
        for (int i = 0; i < alive.Length; i++)
            if (alive[i] == 0f) mask[i].fill_(false);
    }
}
