namespace DepthPrune.Methods;

/// <summary>Where a method run stands; saved in every checkpoint it writes, so a resumed run
/// continues at the same phase.</summary>
public enum RunPhase
{
    /// <summary>Training the dense model (or loading it), then measuring it.</summary>
    Pretrain,
    /// <summary>The step was taken; the fine-tune that follows it is under way.</summary>
    Finetune,
    /// <summary>Between iterations: the next one starts with a probe and a step.</summary>
    Iterated,
    /// <summary>The last, longer fine-tune of the best model (--final-epochs).</summary>
    Final,
    Done,
}

/// <summary>Why the iterations ended.</summary>
public enum RunStop { MaxIterations, NothingLeft, OutsideTolerance, EveryActivationRemoved }

/// <summary>A method run's state between two of its checkpoints.</summary>
sealed record RunState
{
    /// <summary>The method that started the run (null in checkpoints written before it was kept).</summary>
    public string? Method { get; init; }
    public RunPhase Phase { get; init; } = RunPhase.Pretrain;
    public int Iteration { get; init; }
    public RunRecord? Run { get; init; }
    /// <summary>Why the iterations ended (null in checkpoints written before it was kept: see StoppedBy).</summary>
    public RunStop? Stop { get; init; }
    /// <summary>The removals of the iteration being fine-tuned.</summary>
    public List<string> Pending { get; init; } = [];
    /// <summary>Why the step chose them (MethodContext.Reason).</summary>
    public string? PendingReason { get; init; }
    /// <summary>Removals the next step may take (RemovalAllowance).</summary>
    public int Budget { get; init; }
    /// <summary>Images probed for this iteration's step, before its fine-tuning.</summary>
    public long Probed { get; init; }
    /// <summary>The probe the next step starts from was counted already, by the accepted iteration
    /// that measured it after its fine-tune: a run resumed here measures it again but counts nothing,
    /// as an uninterrupted run spends nothing on it.</summary>
    public bool ProbeCounted { get; init; }
    /// <summary>Activations whose single removal left the tolerance and was undone (--retries): kept.</summary>
    public List<string> Kept { get; init; } = [];
    public int Retried { get; init; }

    /// <summary>The stop, also for checkpoints that kept only its reason.</summary>
    public RunStop? StoppedBy => Stop ?? (Run?.StopReason.StartsWith(MethodRun.MaxIterationsReason, StringComparison.Ordinal) == true ? RunStop.MaxIterations : null);

    public RunState Stopped(RunStop stop, string reason) =>
        this with { Phase = RunPhase.Done, Stop = stop, Run = Run! with { StopReason = reason, Finished = true } };
}
