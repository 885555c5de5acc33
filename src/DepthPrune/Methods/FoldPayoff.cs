using DepthPrune.Folding;
using DepthPrune.Models;
using static TorchSharp.torch;

namespace DepthPrune.Methods;

/// <summary>What a removal lets folding save, in MACs per image of the folded network (policy
/// macs: the deployable fold), measured by folding the model with the removal made and undone.</summary>
public static class FoldPayoff
{
    /// <summary>MACs per image of the model's weight layers once folded.</summary>
    public static long FoldedMacs(ZooModel model)
    {
        using var scope = NewDisposeScope();
        var (stages, _) = Folder.Fold(Folder.Compile(model), FoldPolicy.Macs);
        return Macs(stages);
    }

    static long Macs(IEnumerable<FoldStage> stages) => stages.Sum(s => s switch
    {
        AffineStage a => a.Layer.Macs,
        ResidualStage r => Macs(r.Main) + Macs(r.Shortcut),
        _ => 0L,
    });

    /// <summary>A set of activations removed together, and the MACs per image folding then saves
    /// per activation removed.</summary>
    public sealed record RemovalUnit(IReadOnlyList<string> Slots, double SavingPerRemoval);

    /// <summary>The removal units among the remaining activations: each activation alone, except
    /// that the remaining activations of one block form one unit when removing them all saves
    /// more per activation than removing any one of them alone (a MobileNetV2 block folds only
    /// once both its ReLU6 are gone).</summary>
    public static IReadOnlyList<RemovalUnit> RemovalUnits(ZooModel model, IReadOnlyList<string> remaining, long baseline)
    {
        var alone = remaining.ToDictionary(s => s, s => (double)(baseline - WithIdentity(model, [s])));
        var together = new Dictionary<string, double>();   // per block (by its first remaining slot), folded once
        var units = new List<RemovalUnit>();
        foreach (string slot in remaining)
        {
            if (units.Any(u => u.Slots.Contains(slot))) continue;
            var block = model.Structure.BlockOf(slot).Where(remaining.Contains).ToList();
            if (!together.TryGetValue(block[0], out double perRemoval))
                together[block[0]] = perRemoval = block.Count > 1 ? (baseline - WithIdentity(model, block)) / (double)block.Count : double.NegativeInfinity;
            if (perRemoval > block.Max(s => alone[s])) units.Add(new RemovalUnit(block, perRemoval));
            else units.Add(new RemovalUnit([slot], alone[slot]));
        }
        return units;
    }

    /// <summary>MACs saved when every weight of the layer is pruned (a residual block whose main
    /// path then outputs a constant folds away).</summary>
    public static long OfPruningAway(ZooModel model, WeightNode layer, long baseline)
    {
        var weight = model.Weight(layer);
        using var noGrad = no_grad();
        using var kept = weight.clone();
        weight.zero_();
        try { return baseline - FoldedMacs(model); }
        finally { weight.copy_(kept); }
    }

    static long WithIdentity(ZooModel model, IReadOnlyList<string> slots) => Linearize.WithIdentity(model, slots, () => FoldedMacs(model));
}
