namespace DepthPrune.Methods;

/// <summary>EASIER: each iteration removes the remaining activation with the lowest entropy
/// (Identity), and any whose entropy is exactly 0 (exact channel mask). Under the latency
/// objective it removes, among the lowest-entropy quarter of the remaining activations, the one
/// whose removal lets folding save the most MACs (the lowest entropy when none saves any).</summary>
public sealed class Easier : DepthMethod
{
    public override string Name => "easier";

    public override IReadOnlyList<string>? Before(MethodContext c)
    {
        var removed = Linearize.ZeroEntropyLayers(c.Model, c.Entropies);
        var order = c.Model.Structure.Activations.ToList();
        var remaining = c.Entropies.Where(e => !c.Model.Slots[e.Name].IsLinear)
            .OrderBy(e => e.Entropy).ThenBy(e => order.IndexOf(e.Name)).Select(e => e.Name).ToList();
        if (remaining.Count == 0) return removed.Count > 0 ? removed : null;
        string next = c.Options.Objective == RemovalObjective.Latency ? BestPayoff(c, remaining) : remaining[0];
        c.Model.Slots[next].SetIdentity();
        removed.Add(next);
        return removed;
    }

    /// <summary>remaining is in entropy order; ties in payoff go to the lower entropy.</summary>
    static string BestPayoff(MethodContext c, IReadOnlyList<string> remaining)
    {
        long baseline = FoldPayoff.FoldedMacs(c.Model);
        int window = Math.Max(2, (remaining.Count + 3) / 4);
        var (slot, payoff) = remaining.Take(window).Select(s => (Slot: s, Payoff: FoldPayoff.OfLinearizing(c.Model, s, baseline)))
            .Aggregate((best, next) => next.Payoff > best.Payoff ? next : best);
        return payoff > 0 ? slot : remaining[0];
    }
}
