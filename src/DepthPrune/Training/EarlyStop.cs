namespace DepthPrune.Training;

/// <summary>A stage that may end before its schedule: at every EveryBatches-th batch position
/// (counted from the stage's start, across epochs) the trainer calls Check with that position,
/// and stops there when it gives a reason. The check is made before the batch at that position is
/// trained, so a run resumed from a checkpoint taken at the stop asks again, gets the same answer
/// and stops at the same place.</summary>
public sealed class EarlyStop
{
    /// <summary>Given the batches trained so far in the stage: why to stop now, or null to go on.</summary>
    public required Func<long, string?> Check { get; init; }
    public required int EveryBatches { get; init; }
    /// <summary>The (epoch, batch) the stage stopped at, or null when it ran its whole schedule.</summary>
    public (int Epoch, int Batch)? StoppedAt { get; set; }
    public string? Reason { get; set; }
    /// <summary>Batches trained in the stage when it stopped, or null.</summary>
    public long? StoppedPosition { get; set; }

    /// <summary>Images the stage trained on, as an uninterrupted run spends them.</summary>
    public long ImagesTrained(TrainOptions o, int trainCount) => StoppedAt is var (epoch, batch)
        ? (long)epoch * trainCount + Math.Min((long)batch * o.BatchSize, trainCount)
        : (long)o.Epochs * trainCount;

    /// <summary>Asks at the positions due; true when the stage stops here.</summary>
    public bool StopsAt(int epoch, int batch, int batchesPerEpoch)
    {
        long position = (long)epoch * batchesPerEpoch + batch;
        if (position == 0 || position % EveryBatches != 0 || Check(position) is not { } reason) return false;
        (StoppedAt, Reason, StoppedPosition) = ((epoch, batch), reason, position);
        return true;
    }
}
