using DepthPrune.Entropy;

namespace DepthPrune.Methods;

/// <summary>EASIER: each iteration removes the remaining activation with the lowest entropy
/// (Identity), and any whose entropy is exactly 0 (exact channel mask). Under the latency
/// objective a removal may be a unit: the remaining activations of one block together, when only
/// removing them all lets folding save MACs (a MobileNetV2 block). Among the lowest-entropy quarter
/// of the units (mean entropy), the one that saves the most per activation removed goes (MACs, or
/// with --payoff onnxruntime batch-1 time in ONNX Runtime);
/// when none saves any, the lowest-entropy activation. Allowed several removals, it takes the
/// lowest-entropy activations whose entropy bounds separate them from the rest (all of them up to
/// the allowance when entropies are exact), at least one. With a damage sample (entropy
/// objective), it takes them instead from the lowest-entropy quarter (at least two more than it
/// may take) in order of the loss their removal alone costs on the sample.</summary>
public sealed class Easier : DepthMethod
{
    public override string Name => "easier";
    public override bool ChoosesRemovals(MethodOptions options) => true;

    public override IReadOnlyList<string>? Before(MethodContext c)
    {
        var removed = Linearize.ZeroEntropyLayers(c.Model, c.Entropies);
        var order = c.Model.Structure.Activations.ToList();
        var entropy = c.Entropies.ToDictionary(e => e.Name, e => e.Entropy);
        var remaining = order.Where(n => !c.Model.Slots[n].IsLinear && !c.Kept.Contains(n)).OrderBy(n => entropy[n]).ThenBy(order.IndexOf).ToList();
        if (remaining.Count == 0) return removed.Count > 0 ? removed : null;
        var next = c.Options.Objective == RemovalObjective.Latency ? BestUnit(c, remaining, entropy) : Lowest(c, remaining, entropy);
        foreach (string slot in next) c.Model.Slots[slot].SetIdentity();
        removed.AddRange(next);
        return removed;
    }

    static IReadOnlyList<string> Lowest(MethodContext c, IReadOnlyList<string> remaining, Dictionary<string, double> entropy)
    {
        int take = 1;
        if (c.MaxRemovals > 1)
        {
            var candidates = remaining.Select(n => (entropy[n], c.Bounds?.GetValueOrDefault(n) ?? EntropyBound.Exact(entropy[n]))).ToList();
            take = Math.Max(1, SampledEntropy.SeparatedPrefix(candidates, c.MaxRemovals));
        }
        if (c.DamageSample is not { } sample) return remaining.Take(take).ToList();
        var window = remaining.Take(Math.Max(take + 2, (remaining.Count + 3) / 4)).ToList();
        c.ImagesEvaluated += (long)window.Count * sample.Set.Count;
        return window.OrderBy(n => Linearize.WithIdentity(c.Model, [n], () => Training.Evaluation.Run(c.Model, sample).Loss)).Take(take).ToList();
    }

    /// <summary>remaining is in entropy order; ties in payoff go to the lower mean entropy.</summary>
    static IReadOnlyList<string> BestUnit(MethodContext c, IReadOnlyList<string> remaining, Dictionary<string, double> entropy)
    {
        var cost = FoldPayoff.Cost(c.Model, c.Options.Payoff);
        var units = FoldPayoff.RemovalUnits(c.Model, remaining, cost)
            .OrderBy(u => u.Slots.Average(s => entropy[s])).ToList();
        int window = Math.Max(2, (units.Count + 3) / 4);
        var best = units.Take(window).Aggregate((a, b) => b.SavingPerRemoval > a.SavingPerRemoval ? b : a);
        if (best.SavingPerRemoval <= 0)
        {
            c.Reason = $"no removal among the {window} lowest-entropy units lets folding save: the lowest entropy";
            return [remaining[0]];
        }
        c.Reason = $"folding then saves {cost.Describe(best.SavingPerRemoval * best.Slots.Count)}, the most among the {window} lowest-entropy units";
        return best.Slots;
    }
}
