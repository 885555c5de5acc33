namespace DepthPrune.Methods;

/// <summary>Sanity floor: each iteration removes one remaining activation chosen at random (seeded).</summary>
public sealed class RandomRemoval : DepthMethod
{
    public override string Name => "random";

    public override IReadOnlyList<string>? Before(MethodContext c)
    {
        var remaining = Linearize.Remaining(c.Model).ToList();
        if (remaining.Count == 0) return null;
        string pick = remaining[c.Random.Next(remaining.Count)];
        c.Model.Slots[pick].SetIdentity();
        return [pick];
    }
}
