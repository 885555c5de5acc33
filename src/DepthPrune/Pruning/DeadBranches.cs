using DepthPrune.Models;
using static TorchSharp.torch;

namespace DepthPrune.Pruning;

/// <summary>When the last weight layer of a residual block's main path has no weights left,
/// the path outputs a constant (its BatchNorm shift) whatever its earlier layers compute, so
/// those layers are dead: pruning them changes no output. Their activations then turn constant
/// and are linearized at the next probe.</summary>
public static class DeadBranches
{
    public static List<string> Prune(ZooModel model, PruningMasks masks)
    {
        var pruned = new List<string>();
        foreach (var block in model.Structure.Walk().OfType<ResidualNode>())
        {
            var layers = new Structure(block.Main).WeightLayers;
            if (layers.Count < 2 || masks.Remaining(layers[^1].Module) != 0) continue;
            foreach (var layer in layers.Take(layers.Count - 1))
            {
                if (masks.Remaining(layer.Module) == 0) continue;
                var mask = masks.Ensure(model, layer);
                masks.Set(layer.Module, zeros_like(mask).DetachFromDisposeScope());
                pruned.Add(layer.Module);
            }
        }
        masks.ApplyToWeights(model);
        return pruned;
    }
}
