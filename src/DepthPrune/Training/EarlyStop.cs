namespace DepthPrune.Training;

/// <summary>A stage that may end before its schedule: at every EveryBatches-th batch position
/// (counted from the stage's start, across epochs) the trainer asks Recovered, and stops there on
/// true. The check is made before the batch at that position is trained, so a run resumed from a
/// checkpoint taken at the stop asks again, gets the same answer and stops at the same place.</summary>
public sealed class EarlyStop
{
    public required Func<bool> Recovered { get; init; }
    public required int EveryBatches { get; init; }
    /// <summary>The (epoch, batch) the stage stopped at, or null when it ran its whole schedule.</summary>
    public (int Epoch, int Batch)? StoppedAt { get; set; }

    /// <summary>Images the stage trained on, as an uninterrupted run spends them.</summary>
    public long ImagesTrained(TrainOptions o, int trainCount) => StoppedAt is var (epoch, batch)
        ? (long)epoch * trainCount + Math.Min((long)batch * o.BatchSize, trainCount)
        : (long)o.Epochs * trainCount;

    public bool Due(int epoch, int batch, int batchesPerEpoch)
    {
        long position = (long)epoch * batchesPerEpoch + batch;
        return position > 0 && position % EveryBatches == 0;
    }
}
