using DepthPrune.Models;
using static TorchSharp.torch;

namespace DepthPrune.Folding;

/// <summary>Turns a model's structure into fold stages (BatchNorm folded, linearized activations
/// folded into the layer before them or dropped) and merges consecutive affine layers.</summary>
public static class Folder
{
    /// <summary>The model as stages, before any merge. Needs a structure that runs as written:
    /// an op that itself runs weight layers listed beside it (Swin-T's attention) cannot fold.</summary>
    public static List<FoldStage> Compile(ZooModel model)
    {
        var weightModules = model.Structure.WeightLayers.Select(w => w.Module).ToList();
        foreach (var op in model.Structure.Walk().OfType<OpNode>())
        {
            string? inside = weightModules.FirstOrDefault(w => w.StartsWith(op.Name + ".", StringComparison.Ordinal));
            if (inside is not null)
                throw new NotSupportedException($"{model.Name}: op '{op.Name}' runs '{inside}' itself, so its structure does not run as written and cannot be folded");
        }
        var stages = new List<FoldStage>();
        Append(model, model.Structure.Root, stages);
        return stages;
    }

    static void Append(ZooModel model, Node node, List<FoldStage> stages)
    {
        switch (node)
        {
            case WeightNode w:
                stages.Add(new AffineStage(AffineLayer.Read(model, w)));
                break;
            case ActNode a:
                var slot = model.Slots[a.Slot];
                if (slot.Mode == SlotMode.Identity) break;
                if (slot.Mode == SlotMode.ChannelMask && stages.Count > 0 && stages[^1] is AffineStage before)
                {
                    using var mask = tensor(slot.Mask!);
                    before.Layer.ScaleOutputs(mask);
                    break;
                }
                stages.Add(new ModuleStage(a.Slot, slot));
                break;
            case OpNode op:
                stages.Add(new ModuleStage(op.Name, model.Module(op.Name) as nn.Module<Tensor, Tensor>
                    ?? throw new NotSupportedException($"{model.Name}: op '{op.Name}' is not a tensor-to-tensor module")));
                break;
            case SeqNode s:
                foreach (var item in s.Items) Append(model, item, stages);
                break;
            case ResidualNode r:
                var main = new List<FoldStage>();
                var shortcut = new List<FoldStage>();
                Append(model, r.Main, main);
                Append(model, r.Shortcut, shortcut);
                stages.Add(new ResidualStage(main, shortcut));
                break;
        }
    }

    /// <summary>Merges each affine layer into the one before it when nothing non-linear sits
    /// between them and the policy allows it; returns the merged stages and the merges done.</summary>
    public static (List<FoldStage> Stages, List<FoldStep> Steps) Fold(IReadOnlyList<FoldStage> stages, FoldPolicy policy)
    {
        var steps = new List<FoldStep>();
        return (Fold(stages, policy, steps), steps);
    }

    static List<FoldStage> Fold(IReadOnlyList<FoldStage> stages, FoldPolicy policy, List<FoldStep> steps)
    {
        var result = new List<FoldStage>();
        foreach (var original in stages)
        {
            var stage = original is ResidualStage r ? Collapse(r, policy, steps) : original;
            if (stage is AffineStage next && result.Count > 0 && result[^1] is AffineStage previous
                && ChainMerge.CanMerge(previous.Layer, next.Layer))
            {
                var (apart, merged) = ChainMerge.Macs(previous.Layer, next.Layer);
                bool exact = ChainMerge.IsExact(previous.Layer, next.Layer);
                bool take = policy switch
                {
                    FoldPolicy.Exact => exact && merged <= apart,
                    FoldPolicy.Macs => merged <= apart,
                    _ => true,
                };
                if (take)
                {
                    steps.Add(new FoldStep(previous.Layer.Name, next.Layer.Name, apart, merged, exact));
                    result[^1] = new AffineStage(ChainMerge.Merge(previous.Layer, next.Layer));
                    continue;
                }
            }
            result.Add(stage);
        }
        return result;
    }

    /// <summary>Folds inside both branches; a block whose main path became one conv and whose
    /// shortcut is the identity or one conv becomes one conv (exact, no more MACs than the two).</summary>
    static FoldStage Collapse(ResidualStage r, FoldPolicy policy, List<FoldStep> steps)
    {
        var main = Fold(r.Main, policy, steps);
        var shortcut = Fold(r.Shortcut, policy, steps);
        if (ConstantOutput(main) is { } constant && shortcut is [] or [AffineStage])
        {
            // The main path adds a constant whatever its input: the block is its shortcut plus it.
            string name = main.OfType<AffineStage>().Last().Layer.Name;
            long mainMacs = main.OfType<AffineStage>().Sum(a => a.Layer.MacsPerOutput);
            if (shortcut is [AffineStage only])
            {
                var withBias = new AffineLayer(only.Layer.Name + "+" + name, only.Layer.Weight.clone(), only.Layer.Bias + constant, only.Layer.Conv, only.Layer.Exact);
                steps.Add(new FoldStep(name, only.Layer.Name, mainMacs + only.Layer.MacsPerOutput, only.Layer.MacsPerOutput, true));
                return new AffineStage(withBias);
            }
            steps.Add(new FoldStep(name, "identity", mainMacs, 0, true));
            return new BiasStage(name, constant);
        }
        if (main is [AffineStage m] && shortcut is [] or [AffineStage])
        {
            var side = shortcut is [AffineStage s] ? s.Layer : null;
            if (ChainMerge.AddShortcut(m.Layer, side) is { } collapsed)
            {
                steps.Add(new FoldStep(m.Layer.Name, side?.Name ?? "identity", m.Layer.MacsPerOutput + (side?.MacsPerOutput ?? 0), collapsed.MacsPerOutput, collapsed.Exact));
                return new AffineStage(collapsed);
            }
        }
        return new ResidualStage(main, shortcut);
    }

    /// <summary>The per-channel constant a path outputs whatever its input, when it can be seen
    /// exactly: a layer with no weights outputs its bias; a zero map stays zero through our
    /// activations (all map 0 to 0), and a layer fed only zeros outputs its bias, padding or not.</summary>
    static Tensor? ConstantOutput(IReadOnlyList<FoldStage> path)
    {
        Tensor? constant = null;
        foreach (var stage in path)
            constant = stage switch
            {
                AffineStage a when IsZero(a.Layer.Weight) => a.Layer.Bias,
                AffineStage a when constant is not null && IsZero(constant) => a.Layer.Bias,
                ModuleStage { Module: ActivationSlot } when constant is not null && IsZero(constant) => constant,
                _ => null,
            };
        return constant;
    }

    static bool IsZero(Tensor values)
    {
        using var nonzero = values.count_nonzero();
        return nonzero.item<long>() == 0;
    }

    /// <summary>Critical path: the most affine layers on any input-to-output path.</summary>
    public static int Depth(IReadOnlyList<FoldStage> stages) => stages.Sum(s => s switch
    {
        AffineStage => 1,
        ResidualStage r => Math.Max(Depth(r.Main), Depth(r.Shortcut)),
        _ => 0,
    });
}
