using DepthPrune.Entropy;
using DepthPrune.Models;
using DepthPrune.Pruning;

namespace DepthPrune.Methods;

/// <summary>What a method sees when it takes a step.</summary>
public sealed class MethodContext
{
    public required ZooModel Model { get; init; }
    public required PruningMasks Masks { get; init; }
    public required MethodOptions Options { get; init; }
    public required int Iteration { get; init; }
    /// <summary>Entropies measured on the training set at the start of this iteration.</summary>
    public required IReadOnlyList<LayerEntropy> Entropies { get; init; }
    /// <summary>Where each entropy lies when it was measured on a sample (absent: exact).</summary>
    public IReadOnlyDictionary<string, EntropyBound>? Bounds { get; init; }
    /// <summary>Removals this step may take (EASIER).</summary>
    public int MaxRemovals { get; init; } = 1;
    /// <summary>Activations not to remove: their removal left the tolerance and was undone.</summary>
    public IReadOnlyList<string> Kept { get; init; } = [];
    public required Random Random { get; init; }
    /// <summary>Training images on which a candidate removal's damage is measured (null: not measured).</summary>
    public Data.BatchLoader? DamageSample { get; init; }
    /// <summary>Images the step evaluated (measuring damage), counted with the probes.</summary>
    public long ImagesEvaluated { get; set; }
    /// <summary>Why the step chose its removals, when more than entropy decided (recorded with the iteration).</summary>
    public string? Reason { get; set; }
}

/// <summary>One depth-reduction method: a step before fine-tuning (and optionally one after).
/// A step returns the slots it linearized, or null when it has nothing left to do.</summary>
public abstract class DepthMethod
{
    public abstract string Name { get; }
    public virtual bool Prunes => false;
    /// <summary>Chooses what it removes under these options, so a failed removal can be kept and the
    /// next one tried (--retries); EASIER may also take several per step.</summary>
    public virtual bool ChoosesRemovals(MethodOptions options) => false;

    public abstract IReadOnlyList<string>? Before(MethodContext context);

    /// <summary>After fine-tuning and before evaluation (Layer Folding decides here).</summary>
    public virtual IReadOnlyList<string> After(MethodContext context) => [];

    /// <summary>An extra training loss (Layer Folding's slope regulariser).</summary>
    public virtual Func<TorchSharp.torch.Tensor>? ExtraLoss(ZooModel model, MethodOptions options) => null;

    public static IReadOnlyList<string> Names { get; } = ["easier", "egp", "nepenthe", "imp", "layerfold", "random"];

    public static DepthMethod Create(string name) => name switch
    {
        "easier" => new Easier(),
        "egp" => new EntropyGuidedPruning(nepenthe: false),
        "nepenthe" => new EntropyGuidedPruning(nepenthe: true),
        "imp" => new IterativeMagnitudePruning(),
        "layerfold" => new LayerFolding(),
        "random" => new RandomRemoval(),
        _ => throw new Runtime.UsageException($"method '{name}': expected one of {string.Join(", ", Names)}"),
    };
}
