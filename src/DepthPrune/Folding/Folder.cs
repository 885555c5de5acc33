using DepthPrune.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DepthPrune.Folding;

/// <summary>Turns a model's structure into fold stages (BatchNorm folded, linearized activations
/// folded into the layer before them or dropped) and merges chains of affine layers.</summary>
public static class Folder
{
    /// <summary>The model as stages, before any merge, with every layer's input shape found by
    /// running the stages once. A weight layer that an op runs itself (Swin-T's attention runs
    /// its qkv and proj) stays inside that op. Like <see cref="Fold"/>, it runs with the collector
    /// held off (<see cref="Runtime.NoCollection"/>): thousands of libtorch calls with temporary arguments.</summary>
    public static List<FoldStage> Compile(ZooModel model) => Runtime.NoCollection.Run(() =>
    {
        var stages = new List<FoldStage>();
        Append(model, model.Structure.Root, stages, model.Structure.RunByOp);
        model.Net.eval();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var o = model.Options;
        Trace(stages, zeros(1, o.InChannels, o.InputSize, o.InputSize, device: model.Weight(model.Structure.WeightLayers[0]).device));
        return stages;
    });

    static void Append(ZooModel model, Node node, List<FoldStage> stages, Func<WeightNode, bool> insideOp)
    {
        switch (node)
        {
            case WeightNode w when insideOp(w):
                break;
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
                    ?? throw new NotSupportedException($"{model.Name}: op '{op.Name}' is not a tensor-to-tensor module"),
                    model.Structure.LayersRunBy(op.Name)));
                break;
            case RegionNode g:
                stages.Add(new ModuleStage(g.Name, (nn.Module<Tensor, Tensor>)model.Module(g.Name), g.Layers));
                break;
            case SeqNode s:
                foreach (var item in s.Items) Append(model, item, stages, insideOp);
                break;
            case ResidualNode r:
                var main = new List<FoldStage>();
                var shortcut = new List<FoldStage>();
                Append(model, r.Main, main, insideOp);
                Append(model, r.Shortcut, shortcut, insideOp);
                stages.Add(new ResidualStage(main, shortcut));
                break;
        }
    }

    /// <summary>Runs stages on x, recording each layer's input shape; returns the output.</summary>
    static Tensor Trace(IReadOnlyList<FoldStage> stages, Tensor x) => Run(stages, x, record: true);

    static Tensor Run(IEnumerable<FoldStage> stages, Tensor x, bool record = false)
    {
        foreach (var stage in stages)
        {
            if (record && stage is AffineStage { Layer: var layer }) layer.InputShape = x.shape[1..];
            x = stage switch
            {
                AffineStage a => a.Layer.Apply(x),
                ModuleStage m => m.Module.call(x),
                BiasStage b => x + b.Broadcastable(x.dim()),
                ResidualStage r => Run(r.Main, x, record) + (r.Shortcut.Count == 0 ? x : Run(r.Shortcut, x, record)),
                _ => throw new NotSupportedException(stage.GetType().Name),
            };
        }
        return x;
    }

    /// <summary>Merges chains of affine layers (nothing non-linear between them) as the policy
    /// allows; returns the merged stages and the merges done. <see cref="FoldPolicy.OnnxRuntime"/>
    /// needs what a layer costs (cost); the other policies count MACs.</summary>
    public static (List<FoldStage> Stages, List<FoldStep> Steps) Fold(IReadOnlyList<FoldStage> stages, FoldPolicy policy, ILayerCost? cost = null) => Runtime.NoCollection.Run(() =>
    {
        if (policy == FoldPolicy.OnnxRuntime && cost is null) throw new ArgumentException("the onnxruntime fold policy needs a layer cost (ONNX Runtime timings)", nameof(cost));
        var steps = new List<FoldStep>();
        return (Fold(stages, new Choice(policy, cost), steps), steps);
    });

    /// <summary>The policy and, under OnnxRuntime, what a layer costs.</summary>
    sealed record Choice(FoldPolicy Policy, ILayerCost? Cost)
    {
        public bool BorderBias => Policy == FoldPolicy.Exact;
    }

    static List<FoldStage> Fold(IReadOnlyList<FoldStage> stages, Choice policy, List<FoldStep> steps)
    {
        var result = new List<FoldStage>();
        var chain = new List<AffineLayer>();
        foreach (var original in PoolFirst(stages, steps))
        {
            var stage = original is ResidualStage r ? Collapse(r, policy, steps) : original;
            if (stage is null || Redundant(stage, result, chain)) continue;   // a block pruned away whole leaves nothing
            if (stage is AffineStage a && (chain.Count == 0 || ChainMerge.CanMerge(chain[^1], a.Layer)))
            {
                chain.Add(a.Layer);
                continue;
            }
            Flush(chain, policy, steps, result);
            if (stage is AffineStage next) chain.Add(next.Layer);
            else result.Add(stage);
        }
        Flush(chain, policy, steps, result);
        return result;
    }

    /// <summary>A 1x1 conv (stride 1, no padding, one bias per channel) right before a global
    /// average pooling commutes with it: pooling W x + b gives W (pooled x) + b, exactly. Moved
    /// after the pooling (and a flatten after it) it becomes a linear layer on one position, which
    /// then merges with the classifier: MobileNetV2 with its last ReLU6 removed loses the conv to
    /// 1,280 channels. Only the conv next to the pooling moves: a 1x1 conv before it would leave a
    /// chain it may merge into anyway, and moving it can make that chain's merged conv wider.</summary>
    static IEnumerable<FoldStage> PoolFirst(IReadOnlyList<FoldStage> stages, List<FoldStep> steps)
    {
        var result = stages.ToList();
        for (int i = 0; i + 1 < result.Count; i++)
        {
            if (result[i] is not AffineStage { Layer: { Conv: { } c } conv } || c.Groups != 1 || conv.Bias.dim() != 1
                || c.Kernel.Any(k => k != 1) || c.Stride.Any(s => s != 1) || c.Padding.Any(p => p != 0)
                || !GlobalPooling(result[i + 1], [conv.Outputs, conv.InputShape[1], conv.InputShape[2]])) continue;
            int after = i + 2;
            while (after < result.Count && result[after] is ModuleStage { Module: Flatten }) after++;
            var linear = new AffineLayer(conv.Name, conv.Weight.reshape(conv.Outputs, -1), conv.Bias.alias(), null, conv.Exact) { InputShape = [conv.InputShape[0]] };
            steps.Add(new FoldStep(conv.Name, "global pooling", conv.Macs, linear.Macs, conv.Exact));
            result.Insert(after, new AffineStage(linear));
            result.RemoveAt(i);
        }
        return result;
    }

    /// <summary>Whether the stage averages each channel of a [C, H, W] input to one value.</summary>
    static bool GlobalPooling(FoldStage stage, long[] input)
    {
        if (stage is not ModuleStage { Module: AdaptiveAvgPool2d pool }) return false;
        using var noGrad = no_grad();
        using var probe = zeros([1, .. input]);
        using var pooled = pool.call(probe);
        return pooled.shape[2] == 1 && pooled.shape[3] == 1;
    }

    /// <summary>Replaces a chain of consecutive affine layers by the cheapest grouping the policy
    /// allows (fewest MACs per image, or least time under OnnxRuntime; fewer layers on a tie):
    /// exact groups only under Exact, any under Macs and OnnxRuntime, one layer under Depth.</summary>
    static void Flush(List<AffineLayer> chain, Choice policy, List<FoldStep> steps, List<FoldStage> result)
    {
        int n = chain.Count;
        if (n == 0) return;
        // best[j]: cheapest (cost, layers) for chain[0..j-1]; from[j]: where its last group starts.
        var best = new (double Cost, int Layers)[n + 1];
        var from = new int[n + 1];
        for (int j = 1; j <= n; j++)
        {
            best[j] = (double.MaxValue, int.MaxValue);
            for (int i = j - 1; i >= 0; i--)
            {
                if (policy.Policy == FoldPolicy.Depth && i > 0) continue;
                if (GroupCost(chain, i, j - 1, policy) is not { } cost) continue;
                var candidate = (best[i].Cost + cost, best[i].Layers + 1);
                if (candidate.Item1 < best[j].Cost || (candidate.Item1 == best[j].Cost && candidate.Item2 < best[j].Layers))
                    (best[j], from[j]) = (candidate, i);
            }
        }
        var groups = new List<(int From, int To)>();
        for (int j = n; j > 0; j = from[j]) groups.Insert(0, (from[j], j - 1));
        foreach (var (i, j) in groups)
        {
            var layer = chain[i];
            for (int k = i + 1; k <= j; k++) layer = ChainMerge.Merge(layer, chain[k], policy.BorderBias);
            if (j > i)
                steps.Add(new FoldStep(chain[i].Name, chain[j].Name, chain.Skip(i).Take(j - i + 1).Sum(l => l.Macs), layer.Macs, layer.Exact));
            result.Add(new AffineStage(layer));
        }
        chain.Clear();
    }

    /// <summary>A bound on the OnnxRuntime search, not a measured optimum: a merge with more than
    /// this many times the MACs of its parts is not timed (kernels grow with every layer a merge
    /// spans; MobileNetV2 with 34 of 35 ReLU6s removed, merged whole, runs 1.7x slower than dense).</summary>
    const long MaxMacsGrowth = 4;

    /// <summary>What chain[i..j] merged into one layer costs under the policy, or null when the
    /// policy does not allow it.</summary>
    static double? GroupCost(List<AffineLayer> chain, int i, int j, Choice policy)
    {
        var (macs, exact) = ChainMerge.Preview(chain, i, j);
        if (policy.Policy == FoldPolicy.Exact && !exact && i < j) return null;
        if (policy.Policy != FoldPolicy.OnnxRuntime) return macs;
        if (i < j && macs > MaxMacsGrowth * chain.Skip(i).Take(j - i + 1).Sum(l => l.Macs)) return null;
        return policy.Cost!.Of(ChainMerge.Shape(chain, i, j));
    }

    /// <summary>Folds inside both branches; a block whose main path became one conv and whose
    /// shortcut is the identity or one conv becomes one conv (exact; under Exact and Macs only
    /// when that costs no more MACs, under OnnxRuntime when it times no slower).</summary>
    static FoldStage? Collapse(ResidualStage r, Choice policy, List<FoldStep> steps)
    {
        var shortcut = Fold(r.Shortcut, policy, steps);
        // Read on the main path as it is, before any merge: merging its layers first would log
        // merges that then vanish, and a merge inexact at the borders would blur the constant.
        if (ConstantOutput(r.Main) is { } constant && shortcut is [] or [AffineStage])
        {
            // The main path adds a constant whatever its input: the block is its shortcut plus it.
            string name = r.Main.OfType<AffineStage>().Last().Layer.Name;
            long mainMacs = r.Main.OfType<AffineStage>().Sum(a => a.Layer.Macs);
            if (shortcut is [AffineStage only])
            {
                var l = only.Layer;
                var withBias = new AffineLayer(l.Name + "+" + name, l.Weight.clone(), AddBiases(l.Bias, constant), l.Conv, l.Exact) { InputShape = l.InputShape };
                steps.Add(new FoldStep(name, l.Name, mainMacs + l.Macs, l.Macs, true));
                return new AffineStage(withBias);
            }
            steps.Add(new FoldStep(name, "identity", mainMacs, 0, true));
            return IsZero(constant) ? null : new BiasStage(name, constant);
        }
        var main = Fold(r.Main, policy, steps);
        if (main is [AffineStage m] && shortcut is [] or [AffineStage])
        {
            var side = shortcut is [AffineStage s] ? s.Layer : null;
            long apart = m.Layer.Macs + (side?.Macs ?? 0);
            if (ChainMerge.AddShortcut(m.Layer, side, policy.BorderBias) is { } collapsed && Pays(collapsed, m.Layer, side, apart, policy))
            {
                steps.Add(new FoldStep(m.Layer.Name, side?.Name ?? "identity", apart, collapsed.Macs, collapsed.Exact));
                return new AffineStage(collapsed);
            }
        }
        return new ResidualStage(main, shortcut);
    }

    /// <summary>Whether a block collapsed into one layer beats its branch and shortcut run apart
    /// (then added): always under Depth, on time under OnnxRuntime (the Add is left out of the
    /// time apart, so the one conv must win on the convs alone), else on MACs.</summary>
    static bool Pays(AffineLayer collapsed, AffineLayer main, AffineLayer? side, long apart, Choice policy) => policy.Policy switch
    {
        FoldPolicy.Depth => true,
        FoldPolicy.OnnxRuntime => policy.Cost!.Of(LayerShape.Of(collapsed)) <= policy.Cost.Of(LayerShape.Of(main)) + (side is null ? 0 : policy.Cost.Of(LayerShape.Of(side))),
        _ => collapsed.Macs <= apart,
    };

    /// <summary>A plain ReLU right after a rectifier whose outputs are never negative (a ReLU or
    /// ReLU6, neurons held at zero or not) is the identity: after a block that vanished, the block's
    /// ReLU repeats the one before it.</summary>
    static bool Redundant(FoldStage stage, List<FoldStage> before, List<AffineLayer> openChain) =>
        openChain.Count == 0 && before.Count > 0
        && stage is ModuleStage { Module: ActivationSlot { Mode: SlotMode.Nonlinear, Kind: ActivationKind.ReLU, Alive: null } }
        && before[^1] is ModuleStage { Module: ActivationSlot { Mode: SlotMode.Nonlinear, Kind: ActivationKind.ReLU or ActivationKind.ReLU6 } };

    /// <summary>Sum of two biases, each [C] or [C, H, W].</summary>
    static Tensor AddBiases(Tensor a, Tensor b) => a.dim() == b.dim() ? a + b
        : a.dim() == 1 ? a.reshape(a.shape[0], 1, 1) + b : a + b.reshape(b.shape[0], 1, 1);

    /// <summary>What a path outputs whatever its input, when a layer on it has no weights left: that
    /// layer outputs its bias, and everything after it is run on that constant (exactly, borders
    /// included). Per channel [C] when the same at every position, else [C, H, W].</summary>
    static Tensor? ConstantOutput(IReadOnlyList<FoldStage> path)
    {
        int last = path.Select((s, i) => s is AffineStage a && IsZero(a.Layer.Weight) ? i : -1).DefaultIfEmpty(-1).Max();
        if (last < 0) return null;
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var dead = ((AffineStage)path[last]).Layer;
        var output = Run(path.Skip(last), zeros([1, .. dead.InputShape], device: dead.Weight.device));
        return AffineLayer.Compact(output[0]).MoveToOuterDisposeScope();
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
        ModuleStage m => m.Layers,
        ResidualStage r => Math.Max(Depth(r.Main), Depth(r.Shortcut)),
        _ => 0,
    });
}
