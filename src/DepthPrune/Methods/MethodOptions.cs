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
    /// <summary>The fine-tune after each step (its Epochs: 1 unless set).</summary>
    public TrainOptions Finetune { get; init; } = new() { Epochs = 1 };
    public EntropyEstimator Estimator { get; init; } = EntropyEstimator.Dataset;
    public int ProbeBatchSize { get; init; } = 256;
    /// <summary>Layer Folding: weight of the regulariser sum_l (1 - a_l)^2 pulling PReLU slopes to 1.</summary>
    public double FoldLambda { get; init; } = 1e-2;
    public int Seed { get; init; }
    public RemovalObjective Objective { get; init; } = RemovalObjective.Entropy;
    /// <summary>EASIER under the latency objective: what a removal's fold saving is counted in.</summary>
    public PayoffMeasure Payoff { get; init; } = PayoffMeasure.Macs;
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
    /// <summary>The recipe the settings came from (Recipe.Apply sets it; recorded in run.json).</summary>
    public string? Recipe { get; init; }
    /// <summary>Epochs of a last fine-tune of the best model (0: none).</summary>
    public int FinalEpochs { get; init; }

    /// <summary>Each setting's own rule (MethodSettings), then the rules between settings.</summary>
    public void Validate()
    {
        MethodSettings.Validate(this);
        static void Require(bool ok, string message) { if (!ok) throw new Runtime.UsageException(message); }
        Require(ProbeBatchSize > 0, $"{nameof(ProbeBatchSize)} {ProbeBatchSize}: must be positive");
        Require(ProbeSample == 0 || Estimator == EntropyEstimator.Dataset,
            $"{nameof(ProbeSample)} {ProbeSample}: needs {nameof(Estimator)} dataset (the bound is for the mean of per-neuron entropies)");
        Require(Payoff == PayoffMeasure.Macs || Objective == RemovalObjective.Latency,
            $"{nameof(Payoff)} {MethodSettings.Named("payoff").Format(this)}: a fold's saving is measured only under {nameof(Objective)} latency");
        Finetune.Validate();
    }
}
