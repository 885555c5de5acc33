namespace DepthPrune.Training;

public enum OptimizerKind { Sgd, Adam, AdamW }
/// <summary>Restarts: cosine from the peak rate to zero over every RestartEvery epochs, then again
/// from the peak (SGDR, Loshchilov and Hutter 2017); a check made at a cycle's end sees a model
/// taken to a low rate.</summary>
public enum ScheduleKind { Constant, MultiStep, Cosine, Restarts }

/// <summary>Everything that defines a training run. Learning rates are a pure function of
/// (epoch, batch), so a resumed run needs no scheduler state.</summary>
public sealed record TrainOptions
{
    public int Epochs { get; init; } = 2;
    public int BatchSize { get; init; } = 128;
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Sgd;
    public double LearningRate { get; init; } = 0.05;
    public double Momentum { get; init; } = 0.9;
    public bool Nesterov { get; init; }
    public double WeightDecay { get; init; } = 5e-4;
    public ScheduleKind Schedule { get; init; } = ScheduleKind.Cosine;
    public int[] Milestones { get; init; } = [];
    public double Gamma { get; init; } = 0.1;
    public int WarmupEpochs { get; init; }
    /// <summary>Length of one cosine cycle of the Restarts schedule, in epochs (rounded to whole
    /// batches the same way as the early-stop checks, so the two line up).</summary>
    public double RestartEvery { get; init; } = 1;
    public double LabelSmoothing { get; init; }
    public double? ClipGradNorm { get; init; }
    public int Seed { get; init; }
    /// <summary>Save a resumable checkpoint every this many batches (0: only at epoch ends).</summary>
    public int CheckpointEveryBatches { get; init; }

    public void Validate()
    {
        static void Require(bool ok, string message) { if (!ok) throw new Runtime.UsageException(message); }
        Require(Epochs >= 0, $"--epochs {Epochs}: must be >= 0");
        Require(BatchSize > 0, $"--batch-size {BatchSize}: must be positive");
        Require(LearningRate > 0, $"--lr {LearningRate}: must be positive");
        Require(Momentum is >= 0 and < 1, $"--momentum {Momentum}: must lie in [0,1)");
        Require(WeightDecay >= 0, $"--weight-decay {WeightDecay}: must be >= 0");
        Require(LabelSmoothing is >= 0 and < 1, $"--label-smoothing {LabelSmoothing}: must lie in [0,1)");
        Require(WarmupEpochs >= 0, $"--warmup-epochs {WarmupEpochs}: must be >= 0");
        Require(ClipGradNorm is null or > 0, $"--clip-grad-norm {ClipGradNorm}: must be positive");
        Require(Milestones.All(m => m > 0), "--milestones: epochs must be positive");
        Require(RestartEvery > 0 && double.IsFinite(RestartEvery), $"--restart-every {RestartEvery}: must be positive (epochs)");
    }

    /// <summary>The schedule in one line, as the progress output states it.</summary>
    public string Describe()
    {
        var c = System.Globalization.CultureInfo.InvariantCulture;
        string schedule = Schedule == ScheduleKind.MultiStep ? $"multistep {string.Join('/', Milestones)} x{Gamma.ToString(c)}" : Schedule.ToString().ToLowerInvariant();
        string momentum = Optimizer == OptimizerKind.Sgd ? $" {Momentum.ToString(c)}" : "";
        return $"{Epochs} epochs, {Optimizer.ToString().ToLowerInvariant()}{momentum} lr {LearningRate.ToString(c)} {schedule}, batch {BatchSize}, wd {WeightDecay.ToString(c)}";
    }

    /// <summary>The learning rate at a fractional epoch position.</summary>
    public double LearningRateAt(int epoch, int batch, int batchesPerEpoch)
    {
        double t = epoch + (double)batch / Math.Max(1, batchesPerEpoch);
        if (WarmupEpochs > 0 && t < WarmupEpochs) return LearningRate * (t + 1.0 / batchesPerEpoch) / WarmupEpochs;
        return Schedule switch
        {
            ScheduleKind.MultiStep => LearningRate * Math.Pow(Gamma, Milestones.Count(m => epoch >= m)),
            ScheduleKind.Cosine => LearningRate * 0.5 * (1 + Math.Cos(Math.PI * (t - WarmupEpochs) / Math.Max(1e-9, Epochs - WarmupEpochs))),
            ScheduleKind.Restarts => RestartsRate((long)epoch * batchesPerEpoch + batch - (long)WarmupEpochs * batchesPerEpoch, BatchesPer(RestartEvery, batchesPerEpoch)),
            _ => LearningRate,
        };
    }

    /// <summary>A span in epochs as a whole number of batches (at least one).</summary>
    public static int BatchesPer(double epochs, int batchesPerEpoch) => Math.Max(1, (int)Math.Round(epochs * batchesPerEpoch));

    /// <summary>Position j of a cycle of n batches: the peak at j = 0, near zero at j = n - 1.</summary>
    double RestartsRate(long position, int cycle) => LearningRate * 0.5 * (1 + Math.Cos(Math.PI * (position % cycle) / cycle));
}
