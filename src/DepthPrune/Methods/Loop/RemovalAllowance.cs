using DepthPrune.Training;

namespace DepthPrune.Methods;

/// <summary>What a failed fine-tune leads to: the run's end (None), or a roll-back of one removal
/// (Single, under --retries) or of several taken at once (Several).</summary>
public enum Trial { None, Single, Several }

/// <summary>How many removals a step may take, and what an iteration that leaves the tolerance
/// costs (docs/METHODS.md, cheap mode). Several removals taken at once are undone and retried with
/// half as many; a single removal by a method that chooses its removals (EASIER; EGP and NEPENTHE
/// pruning a residual branch away under the latency objective) is undone and its activations kept,
/// up to Retries times. After an accepted iteration the allowance doubles (up to
/// Max) only when it had room to spare: back within a quarter epoch, or always when no check
/// judges recovery.</summary>
public sealed record RemovalAllowance(int Max, int Retries, bool ChoosesRemovals)
{
    public static RemovalAllowance For(DepthMethod method, MethodOptions options) => new(options.MaxRemovals, options.Retries, method.ChoosesRemovals(options));

    internal int Allowed(RunState state) => Math.Max(1, state.Budget > 0 ? state.Budget : Max);

    /// <summary>Removals the probe should separate from the rest (one unless the method chooses several).</summary>
    internal int Wanted(RunState state) => ChoosesRemovals ? Allowed(state) : 1;

    internal Trial TrialOf(RunState state)
    {
        if (Allowed(state) > 1 && state.Pending.Count > 1) return Trial.Several;
        return ChoosesRemovals && state.Pending.Count > 0 && state.Retried < Retries ? Trial.Single : Trial.None;
    }

    /// <summary>The state after a failed trial was undone: retry with half as many removals, or
    /// (one removal) keep that activation and go on with the next.</summary>
    internal RunState RolledBack(RunState state, Trial trial) => trial == Trial.Several
        ? state with { Budget = Math.Max(1, Math.Min(Allowed(state), state.Pending.Count) / 2) }
        : state with { Budget = Allowed(state), Kept = [.. state.Kept, .. state.Pending], Retried = state.Retried + 1 };

    internal int AfterSuccess(RunState state, EarlyStop? earlyStop, bool judged, int batchesPerEpoch) =>
        Next(Allowed(state), Max, earlyStop, judged, batchesPerEpoch);

    /// <summary>Removals allowed after an accepted iteration: twice as many (up to max) only when
    /// it was back within a quarter epoch (the first check at or after it), or always when no
    /// check judges recovery.</summary>
    public static int Next(int current, int max, EarlyStop? earlyStop, bool judged, int batchesPerEpoch) =>
        !judged || earlyStop is { Reason: RecoveryCheck.Recovered, StoppedPosition: long at } && at <= FirstCheckFrom(TrainOptions.BatchesPer(0.25, batchesPerEpoch), earlyStop.EveryBatches)
            ? Math.Min(max, 2 * current) : current;

    static long FirstCheckFrom(long position, int every) => (position + every - 1) / every * every;
}
