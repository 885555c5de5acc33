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

    /// <summary>MACs saved per activation removed, when removing the slot alone or together with
    /// the other non-linear activations of its block (a MobileNetV2 block folds only once both
    /// of its ReLU6s are gone): the better of the two.</summary>
    public static double OfLinearizing(ZooModel model, string slot, long baseline)
    {
        var block = model.Structure.BlockOf(slot).Where(s => !model.Slots[s].IsLinear).ToList();
        double alone = baseline - WithIdentity(model, [slot]);
        if (block.Count <= 1) return alone;
        return Math.Max(alone, (baseline - WithIdentity(model, block)) / (double)block.Count);
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

    static long WithIdentity(ZooModel model, IReadOnlyList<string> slots)
    {
        var saved = slots.Select(s => (Slot: model.Slots[s], model.Slots[s].Alive)).ToList();
        foreach (var (slot, _) in saved) slot.SetIdentity();
        try { return FoldedMacs(model); }
        finally
        {
            foreach (var (slot, alive) in saved)
            {
                slot.SetNonlinear();
                slot.SetAlive(alive);
            }
        }
    }
}
