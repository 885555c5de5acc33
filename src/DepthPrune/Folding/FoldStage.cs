using static TorchSharp.torch;

namespace DepthPrune.Folding;

/// <summary>One step of a model being folded, in eval mode.</summary>
public abstract record FoldStage;

/// <summary>A conv or linear layer with everything linear around it folded in.</summary>
public sealed record AffineStage(AffineLayer Layer) : FoldStage;

/// <summary>A non-linear activation or an op, run as the original model runs it; Layers counts the
/// weight layers the op runs itself, one after the other (Swin-T's attention: qkv, proj).</summary>
public sealed record ModuleStage(string Name, nn.Module<Tensor, Tensor> Module, int Layers = 0) : FoldStage;

/// <summary>Adds a constant, [C] or [C, H, W]: what a residual block with a constant main path
/// (all its last layer's weights pruned) adds to its shortcut.</summary>
public sealed record BiasStage(string Name, Tensor Bias) : FoldStage
{
    /// <summary>The bias shaped to add to an input of the given number of dimensions.</summary>
    public Tensor Broadcastable(long dims) => Bias.dim() > 1 ? Bias.alias()
        : Bias.reshape([Bias.shape[0], .. Enumerable.Repeat(1L, (int)dims - 2)]);
}

/// <summary>out = Main(x) + Shortcut(x); an empty shortcut is the identity.</summary>
public sealed record ResidualStage(IReadOnlyList<FoldStage> Main, IReadOnlyList<FoldStage> Shortcut) : FoldStage;

/// <summary>Layers First..Second merged into one: MACs per image before and after, and whether
/// the merge is exact (false when a conv's padding moved into a wider kernel).</summary>
public sealed record FoldStep(string First, string Second, long MacsApart, long MacsMerged, bool Exact);

public enum FoldPolicy
{
    /// <summary>Merge when the result is exact and costs no more MACs.</summary>
    Exact,
    /// <summary>Merge when it costs no more MACs, exact or not (border error is measured).</summary>
    Macs,
    /// <summary>Merge every chain, whatever it costs: the shallowest model.</summary>
    Depth,
    /// <summary>Group each chain (and collapse each residual block) as the layers time fastest,
    /// each candidate layer timed in ONNX Runtime at batch 1 (<see cref="ILayerCost"/>): at small
    /// widths every node costs a dispatch, and a depthwise conv more per MAC than a dense one.</summary>
    OnnxRuntime,
}
