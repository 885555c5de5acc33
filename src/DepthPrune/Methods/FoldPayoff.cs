using DepthPrune.Folding;
using DepthPrune.Models;
using static TorchSharp.torch;

namespace DepthPrune.Methods;

/// <summary>What a removal lets folding save (policy macs: the deployable fold), measured by folding
/// the model with the removal made and undone: in MACs per image of the folded network, or (EASIER,
/// <see cref="PayoffMeasure.OnnxRuntime"/>) in its batch-1 time in ONNX Runtime.</summary>
public static class FoldPayoff
{
    /// <summary>The cost the latency objective counts, for the model as it is now.</summary>
    public static IFoldCost Cost(ZooModel model, PayoffMeasure measure) =>
        measure == PayoffMeasure.OnnxRuntime ? new RuntimeFoldCost(model) : new MacsCost(model);

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
    public static IReadOnlyList<RemovalUnit> RemovalUnits(ZooModel model, IReadOnlyList<string> remaining, IFoldCost cost)
    {
        double baseline = cost.Baseline;
        double WithIdentity(IReadOnlyList<string> slots) => Linearize.WithIdentity(model, slots, () => cost.Of(model));
        var alone = remaining.ToDictionary(s => s, s => baseline - WithIdentity([s]));
        var together = new Dictionary<string, double>();   // per block (by its first remaining slot), folded once
        var units = new List<RemovalUnit>();
        foreach (string slot in remaining)
        {
            if (units.Any(u => u.Slots.Contains(slot))) continue;
            var block = model.Structure.BlockOf(slot).Where(remaining.Contains).ToList();
            if (!together.TryGetValue(block[0], out double perRemoval))
                together[block[0]] = perRemoval = block.Count > 1 ? (baseline - WithIdentity(block)) / block.Count : double.NegativeInfinity;
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
}

/// <summary>Whether the latency objective counts a fold's MACs or times it in ONNX Runtime.</summary>
public enum PayoffMeasure { Macs, OnnxRuntime }

/// <summary>What the model costs once folded (policy macs), against what it cost when the cost was made.</summary>
public interface IFoldCost
{
    /// <summary>The cost of the model as it was when this was made.</summary>
    double Baseline { get; }
    double Of(ZooModel model);
    /// <summary>A saving in words, with its unit.</summary>
    string Describe(double saving);
}

/// <summary>MACs per image of the folded network.</summary>
public sealed class MacsCost(ZooModel model) : IFoldCost
{
    public double Baseline { get; } = FoldPayoff.FoldedMacs(model);
    public double Of(ZooModel changed) => FoldPayoff.FoldedMacs(changed);
    public string Describe(double saving) => FormattableString.Invariant($"{saving:N0} MACs per image ({saving / Baseline:P1})");
}
