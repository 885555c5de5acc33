using DepthPrune.Entropy;
using DepthPrune.Training;

namespace DepthPrune.Methods;

/// <summary>What decides the next removal: entropy alone (as published), or entropy together with
/// what folding saves once the removal is made (docs/METHODS.md).</summary>
public enum RemovalObjective { Entropy, Latency }

/// <summary>Settings shared by every method run. Tolerance is in top-1 points below the dense model.</summary>
public sealed record MethodOptions
{
    public double Tolerance { get; init; } = 1.0;
    /// <summary>Confidence with which a model judged within the tolerance is within it on unseen
    /// data (ToleranceRule); 0.5 judges on the point estimate, as the papers do.</summary>
    public double ToleranceConfidence { get; init; } = ToleranceRule.DefaultConfidence;
    public ToleranceRule Rule => new(Tolerance, ToleranceConfidence);
    /// <summary>0: run until the tolerance is broken or nothing is left to remove.</summary>
    public int MaxIterations { get; init; }
    /// <summary>zeta: fraction of remaining weights pruned per iteration (EGP, NEPENTHE, IMP).</summary>
    public double PruneRatio { get; init; } = 0.5;
    public required TrainOptions Finetune { get; init; }
    public EntropyEstimator Estimator { get; init; } = EntropyEstimator.Dataset;
    public int ProbeBatchSize { get; init; } = 256;
    /// <summary>Layer Folding: weight of the regulariser sum_l (1 - a_l)^2 pulling PReLU slopes to 1.</summary>
    public double FoldLambda { get; init; } = 1e-2;
    public int Seed { get; init; }
    public RemovalObjective Objective { get; init; } = RemovalObjective.Entropy;
    /// <summary>tau in EGP/NEPENTHE's budget softmax((sum I)/(I_l tau)); 1 is the published rule.</summary>
    public double ShareTemperature { get; init; } = 1;
    /// <summary>Fine-tune with distillation from the dense model at this temperature and weight (null: plain).</summary>
    public (double Temperature, double Alpha)? Distill { get; init; }
    /// <summary>Fine-tuning stops once validation top-1 is back within this fraction of the
    /// tolerance below dense, or within the tolerance and no longer improving (checked every
    /// EarlyStopEvery epochs; --finetune-epochs is the cap). Null: full schedule.</summary>
    public double? EarlyStop { get; init; }
    public double EarlyStopEvery { get; init; } = 0.25;
    /// <summary>EASIER: removals one iteration may take (1 as published); an iteration that leaves
    /// the tolerance with more than one is rolled back and retried with half as many.</summary>
    public int MaxRemovals { get; init; } = 1;
    /// <summary>EASIER: single removals that may leave the tolerance, be undone and have their
    /// activation kept, before the run stops (0: the first stops it, as published).</summary>
    public int Retries { get; init; }
    /// <summary>Images in the first entropy sample, doubled until the lowest layers are separated
    /// (SampledEntropy); 0 probes the whole training split.</summary>
    public int ProbeSample { get; init; }
    /// <summary>Training images on which the loss a candidate removal costs is measured, to choose
    /// among the lowest-entropy candidates (0: entropy alone decides). EASIER with the entropy
    /// objective; EGP/NEPENTHE with the latency objective (which whole layer or branch goes).</summary>
    public int DamageSample { get; init; }
    /// <summary>Epochs of a last fine-tune of the best model (0: none).</summary>
    public int FinalEpochs { get; init; }

    public void Validate()
    {
        static void Require(bool ok, string message) { if (!ok) throw new Runtime.UsageException(message); }
        Require(Tolerance >= 0, $"--tolerance {Tolerance}: must be >= 0 (top-1 points)");
        Require(ToleranceConfidence is >= 0.5 and < 1, $"--tolerance-confidence {ToleranceConfidence}: must lie in [0.5,1) (0.5: the point estimate)");
        Require(MaxIterations >= 0, $"--max-iterations {MaxIterations}: must be >= 0");
        Require(PruneRatio is > 0 and < 1, $"--prune-ratio {PruneRatio}: must lie in (0,1)");
        Require(ProbeBatchSize > 0, $"--probe-batch-size {ProbeBatchSize}: must be positive");
        Require(ShareTemperature > 0 && double.IsFinite(ShareTemperature), $"--share-temperature {ShareTemperature}: must be positive");
        Require(FoldLambda >= 0, $"--fold-lambda {FoldLambda}: must be >= 0");
        Require(Distill is null or { Temperature: > 0, Alpha: >= 0 and <= 1 }, $"--distill {Distill}: the temperature must be positive and alpha lie in [0,1]");
        Require(EarlyStop is null or (>= 0 and <= 1), $"--early-stop {EarlyStop}: must lie in [0,1] (a fraction of --tolerance)");
        Require(EarlyStopEvery > 0 && double.IsFinite(EarlyStopEvery), $"--early-stop-every {EarlyStopEvery}: must be positive (epochs)");
        Require(MaxRemovals >= 1, $"--max-removals {MaxRemovals}: must be >= 1");
        Require(Retries >= 0, $"--retries {Retries}: must be >= 0");
        Require(ProbeSample >= 0, $"--probe-sample {ProbeSample}: must be >= 0 (images; 0 probes the whole training split)");
        Require(ProbeSample == 0 || Estimator == EntropyEstimator.Dataset, $"--probe-sample {ProbeSample}: needs --estimator dataset (the bound is for the mean of per-neuron entropies)");
        Require(DamageSample >= 0, $"--damage-sample {DamageSample}: must be >= 0 (images; 0 ranks by entropy alone)");
        Require(FinalEpochs >= 0, $"--final-epochs {FinalEpochs}: must be >= 0");
        Finetune.Validate();
    }
}
