using static TorchSharp.torch;

namespace DepthPrune.Folding;

/// <summary>One step of a model being folded, in eval mode.</summary>
public abstract record FoldStage;

/// <summary>A conv or linear layer with everything linear around it folded in.</summary>
public sealed record AffineStage(AffineLayer Layer) : FoldStage;

/// <summary>A non-linear activation or a weight-free op, run as the original model runs it.</summary>
public sealed record ModuleStage(string Name, nn.Module<Tensor, Tensor> Module) : FoldStage;

/// <summary>Adds a constant per channel: what a residual block with a constant main path (all its
/// last layer's weights pruned) adds to its shortcut.</summary>
public sealed record BiasStage(string Name, Tensor Bias) : FoldStage;

/// <summary>out = Main(x) + Shortcut(x); an empty shortcut is the identity.</summary>
public sealed record ResidualStage(IReadOnlyList<FoldStage> Main, IReadOnlyList<FoldStage> Shortcut) : FoldStage;

/// <summary>Two layers merged into one: MACs per output position before and after, and whether
/// the merge is exact (false when the second conv's padding moved into the merged kernel).</summary>
public sealed record FoldStep(string First, string Second, long MacsApart, long MacsMerged, bool Exact);

public enum FoldPolicy
{
    /// <summary>Merge when the result is exact and costs no more MACs.</summary>
    Exact,
    /// <summary>Merge when it costs no more MACs, exact or not (border error is measured).</summary>
    Macs,
    /// <summary>Merge every chain, whatever it costs: the shallowest model.</summary>
    Depth,
}
