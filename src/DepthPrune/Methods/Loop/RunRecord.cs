using DepthPrune.Models;

namespace DepthPrune.Methods;

/// <summary>One iteration of a method, as written to run.json.</summary>
public sealed record IterationRecord
{
    public int Iteration { get; init; }
    public int Removed { get; init; }
    public int Total { get; init; }
    public List<string> RemovedNames { get; init; } = [];
    public List<string> NewlyRemoved { get; init; } = [];
    public double Top1 { get; init; }
    public double? ValTop1 { get; init; }
    /// <summary>Top-1 minus the dense model's on the same test / validation images, with its bounds
    /// at the run's ToleranceConfidence (null for the dense record and for runs before the rule).</summary>
    public PairedDifference? TestDifference { get; init; }
    public PairedDifference? ValDifference { get; init; }
    public double Loss { get; init; }
    public double Sparsity { get; init; }
    public Dictionary<string, double> LayerSparsity { get; init; } = new();
    /// <summary>H_l of every activation measured after this iteration's fine-tuning.</summary>
    public Dictionary<string, double> Entropies { get; init; } = new();
    public long Params { get; init; }
    public long NonzeroParams { get; init; }
    public long Macs { get; init; }
    public long NonzeroMacs { get; init; }
    public int Depth { get; init; }
    public int LinearDepth { get; init; }
    public bool WithinTolerance { get; init; }
    public double Seconds { get; init; }
    /// <summary>Images through training (pretraining for the dense record, fine-tuning after) and
    /// through the entropy probe in this iteration.</summary>
    public long ImagesTrained { get; init; }
    public long ImagesProbed { get; init; }
    /// <summary>Why and where fine-tuning stopped early ("recovered at epoch 1, batch 105"), or null when it ran its schedule.</summary>
    public string? StoppedEarly { get; init; }
    /// <summary>Why the step chose its removals, when more than entropy decided (the latency objective: what the fold saves).</summary>
    public string? Reason { get; init; }
    /// <summary>Images in the entropy sample that decided this iteration's next step (the training split when not sampled).</summary>
    public int? ProbeSample { get; init; }
    public string Checkpoint { get; init; } = "";
}

/// <summary>A whole method run: run.json.</summary>
public sealed record RunRecord
{
    public required string Method { get; init; }
    public required string Model { get; init; }
    public required string Dataset { get; init; }
    public double DenseTop1 { get; init; }
    public double? DenseValTop1 { get; init; }
    /// <summary>"validation" or "test": which top-1 the tolerance is checked on.</summary>
    public string StoppingSplit { get; init; } = "test";
    public double Tolerance { get; init; }
    /// <summary>ToleranceRule's confidence (0.5, the point estimate, in runs recorded before the rule).</summary>
    public double ToleranceConfidence { get; init; } = 0.5;
    /// <summary>How "within tolerance" was judged, for every iteration and the best model alike.</summary>
    public string? SelectionRule { get; init; }
    /// <summary>The recipe whose values the run took where no flag was given (null: none).</summary>
    public string? Recipe { get; init; }
    public double PruneRatio { get; init; }
    public double ShareTemperature { get; init; } = 1;
    /// <summary>"entropy" or "latency" (see <see cref="RemovalObjective"/>).</summary>
    public string Objective { get; init; } = "entropy";
    /// <summary>What the latency objective counted a fold's saving in: "macs" or "onnxruntime" (null: entropy objective).</summary>
    public string? Payoff { get; init; }
    /// <summary>"T=4, alpha=0.5" when fine-tuning distilled from the dense model.</summary>
    public string? Distill { get; init; }
    public int FinetuneEpochs { get; init; }
    /// <summary>Peak learning rate of each fine-tune (resolved: a flag, or a tenth of the training rate).</summary>
    public double FinetuneLr { get; init; }
    /// <summary>Fraction of the tolerance validation top-1 must be back within to end a fine-tune early (null: full schedule).</summary>
    public double? EarlyStop { get; init; }
    public int MaxRemovals { get; init; } = 1;
    public int Retries { get; init; }
    /// <summary>First entropy sample size (0: the whole training split).</summary>
    public int ProbeSample { get; init; }
    /// <summary>Training images on which the damage of a whole-layer removal is measured (0: ranked by entropy alone).</summary>
    public int DamageSample { get; init; }
    public int Total { get; init; }
    public IterationRecord? Dense { get; init; }
    public List<IterationRecord> Iterations { get; init; } = [];
    /// <summary>Iterations that left the tolerance and were undone: retried with fewer removals, or (--retries) with that activation kept.</summary>
    public List<IterationRecord> RolledBack { get; init; } = [];
    /// <summary>The best model after a last, longer fine-tune (--final-epochs); WithinTolerance says whether it was kept as the best.</summary>
    public IterationRecord? Final { get; init; }
    public int? BestIteration { get; init; }
    public string? BestCheckpoint { get; init; }
    public string StopReason { get; init; } = "";
    public bool Finished { get; init; }

    /// <summary>A run's record before its first iteration: what it runs on and with, and the dense model.</summary>
    public static RunRecord Start(string method, ZooModel model, string dataset, MethodOptions o, IterationRecord dense, string stoppingSplit) => new()
    {
        Method = method, Model = model.Name, Dataset = dataset, Total = model.Slots.Count, Dense = dense, DenseTop1 = dense.Top1, DenseValTop1 = dense.ValTop1,
        StoppingSplit = stoppingSplit, SelectionRule = o.Rule.Describe(stoppingSplit), Tolerance = o.Tolerance, ToleranceConfidence = o.ToleranceConfidence,
        PruneRatio = o.PruneRatio, Objective = o.Objective.ToString().ToLowerInvariant(),
        Payoff = o.Objective == RemovalObjective.Latency ? MethodSettings.Named("payoff").Format(o) : null, ShareTemperature = o.ShareTemperature,
        Distill = o.Distill is { } d ? FormattableString.Invariant($"T={d.Temperature}, alpha={d.Alpha}") : null,
        FinetuneEpochs = o.Finetune.Epochs, FinetuneLr = o.Finetune.LearningRate, EarlyStop = o.EarlyStop, MaxRemovals = o.MaxRemovals, Retries = o.Retries,
        ProbeSample = o.ProbeSample, DamageSample = o.DamageSample, Recipe = o.Recipe,
    };

    /// <summary>Compute over the whole run, dense model included.</summary>
    public long TotalImagesTrained => (Dense?.ImagesTrained ?? 0) + Iterations.Concat(RolledBack).Sum(i => i.ImagesTrained) + (Final?.ImagesTrained ?? 0);
    public long TotalImagesProbed => Iterations.Concat(RolledBack).Sum(i => i.ImagesProbed);
    public double TotalIterationSeconds => Iterations.Concat(RolledBack).Sum(i => i.Seconds);
}
