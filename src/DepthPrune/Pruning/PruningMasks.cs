using DepthPrune.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace DepthPrune.Pruning;

/// <summary>Unstructured pruning masks, one per pruned weight layer (1 = kept, 0 = pruned); a
/// residual branch removed whole also masks its BatchNorms (per channel).
/// The mechanism only: rules that decide what to prune live in the methods. Pruned weights are
/// held at exactly zero by masking gradients before a step and weights after it.</summary>
public sealed class PruningMasks : IDisposable
{
    readonly Dictionary<string, Tensor> masks = new();

    public IReadOnlyDictionary<string, Tensor> ByLayer => masks;

    public Tensor? For(string layer) => masks.GetValueOrDefault(layer);

    /// <summary>The mask of a layer, created all-ones on first use.</summary>
    public Tensor Ensure(ZooModel model, WeightNode layer)
    {
        if (!masks.TryGetValue(layer.Module, out var mask))
        {
            var weight = model.Weight(layer);
            mask = ones_like(weight, dtype: ScalarType.Bool).DetachFromDisposeScope();
            masks[layer.Module] = mask;
        }
        return mask;
    }

    public void Set(string layer, Tensor mask)
    {
        if (masks.Remove(layer, out var old)) old.Dispose();
        masks[layer] = mask;
    }

    /// <summary>Weights a layer still has, or -1 when it has no mask (nothing pruned).</summary>
    public long Remaining(string layer)
    {
        if (!masks.TryGetValue(layer, out var mask)) return -1;
        using var kept = mask.count_nonzero();
        return kept.item<long>();
    }

    /// <summary>Whether every mask keeps every weight (a method run's dense model, say).</summary>
    public bool PrunesNothing => masks.All(m => Remaining(m.Key) == m.Value.numel());

    public void ApplyToWeights(ZooModel model)
    {
        using var noGrad = no_grad();
        foreach (var (name, mask) in masks)
            foreach (var tensor in model.Masked(name)) tensor.mul_(mask);
    }

    public void ApplyToGradients(ZooModel model)
    {
        foreach (var (name, mask) in masks)
            foreach (var tensor in model.Masked(name)) tensor.grad?.mul_(mask);
    }

    /// <summary>Prunes a residual block's main path away whole: every weight and the scale and
    /// shift of every BatchNorm on it, so the path outputs exactly 0 and the block is its shortcut.</summary>
    public void RemoveBranch(ZooModel model, ResidualNode block)
    {
        foreach (var layer in new Structure(block.Main).WeightLayers)
            foreach (string module in layer.Norm is null ? [layer.Module] : new[] { layer.Module, layer.Norm })
                Set(module, zeros_like(model.Weight(new WeightNode(module)), dtype: ScalarType.Bool).DetachFromDisposeScope());
        ApplyToWeights(model);
    }


    public void Save(BinaryWriter writer)
    {
        writer.Write(masks.Count);
        foreach (var (name, mask) in masks.OrderBy(m => m.Key, StringComparer.Ordinal))
        {
            writer.Write(name);
            mask.cpu().Save(writer);
        }
    }

    public static PruningMasks Load(BinaryReader reader, ZooModel model, Device device)
    {
        var result = new PruningMasks();
        int count = reader.ReadInt32();
        for (int i = 0; i < count; i++)
        {
            string name = reader.ReadString();
            var mask = TensorExtensionMethods.Load(reader).to(device);
            var weight = model.Weight(new WeightNode(name));
            if (!mask.shape.SequenceEqual(weight.shape))
                throw new Runtime.DataFormatException($"mask '{name}' has shape [{string.Join(",", mask.shape)}], weight has [{string.Join(",", weight.shape)}]");
            result.masks[name] = mask;
        }
        return result;
    }

    public void Dispose()
    {
        foreach (var mask in masks.Values) mask.Dispose();
        masks.Clear();
    }
}
