namespace DepthPrune.Methods;

/// <summary>EASIER: each iteration removes the remaining activation with the lowest entropy
/// (Identity), and any whose entropy is exactly 0 (exact channel mask).</summary>
public sealed class Easier : DepthMethod
{
    public override string Name => "easier";

    public override IReadOnlyList<string>? Before(MethodContext c)
    {
        var removed = Linearize.ZeroEntropyLayers(c.Model, c.Entropies);
        var lowest = c.Entropies.Where(e => !c.Model.Slots[e.Name].IsLinear)
            .OrderBy(e => e.Entropy).ThenBy(e => c.Model.Structure.Activations.ToList().IndexOf(e.Name)).FirstOrDefault();
        if (lowest is null) return removed.Count > 0 ? removed : null;
        c.Model.Slots[lowest.Name].SetIdentity();
        removed.Add(lowest.Name);
        return removed;
    }
}
