using System.Text.Json;
using DepthPrune.Data;
using DepthPrune.Models;
using DepthPrune.Runtime;
using DepthPrune.Training;

namespace DepthPrune.Methods;

/// <summary>Where a method run starts and what it writes.</summary>
public sealed record MethodRunSetup
{
    public required string OutDir { get; init; }
    public required DataBundle Data { get; init; }
    public required DataOptions DataOptions { get; init; }
    public required Compute Compute { get; init; }
    public required MethodOptions Options { get; init; }
    /// <summary>Trained start point; when absent the dense model is built and trained first.</summary>
    public string? DenseCheckpoint { get; init; }
    public Func<ZooModel>? CreateModel { get; init; }
    public TrainOptions? Pretrain { get; init; }
    public bool Resume { get; init; }
    /// <summary>Called with the record each time run.json is rewritten (the CLI writes its report here).</summary>
    public Action<RunRecord>? Recorded { get; init; }
}

/// <summary>The iteration loop every method shares (docs/DESIGN.md, "The run loop"): probe
/// entropies on the training set, take the method's step, fine-tune, evaluate, record,
/// checkpoint; an iteration that leaves the tolerance is rolled back when the removal allowance
/// allows a retry, else it ends the run. Resumable at any point from RUN/current.ckpt.</summary>
public static class MethodRun
{
    public const string Current = "current.ckpt", Dense = "dense.ckpt", Final = "final.ckpt", Record = "run.json";
    internal const string MaxIterationsReason = "reached --max-iterations";

    public static RunRecord Run(DepthMethod method, MethodRunSetup s, IProgress<TrainProgress>? progress = null, Action<string>? log = null)
    {
        using var run = RunInProgress.Open(method, s, progress, log ?? (_ => { }));
        if (run.State.Phase == RunPhase.Pretrain) run.MeasureDense();
        run.Prepare();
        while (run.State.Phase is RunPhase.Iterated or RunPhase.Finetune)
        {
            int k = run.State.Phase == RunPhase.Finetune ? run.State.Iteration : run.State.Iteration + 1;
            if (!run.TakeStep(k)) break;
            var (record, earlyStop, trial) = run.FineTuneAndMeasure(k);
            if (!record.WithinTolerance && trial != Trial.None) run.RollBack(k, record, trial);
            else run.Accept(k, record, earlyStop);
        }
        run.FinalFineTune();
        return run.Finish();
    }

    /// <summary>A resumed run continues the run in OutDir only: the same method on the same cut of
    /// the same data (the validation split decides, so a different cut would judge on other images).</summary>
    public static void RefuseMismatchedResume(string methodName, MethodRunSetup s)
    {
        string current = Path.Combine(s.OutDir, Current);
        if (!File.Exists(current)) throw new UsageException($"--resume: no {current} to resume from");
        var meta = Checkpoint.ReadMeta(current);
        var state = meta.MethodState?.Deserialize<RunState>(Checkpoint.Json);
        if ((state?.Method ?? state?.Run?.Method) is { } started && started != methodName)
            throw new UsageException($"--resume: {current} is a {started} run; continue it with `depthprune {started} ... --resume`, or start {methodName} in another --out");
        meta.Data?.RequireSameCutFor(s.DataOptions, current);
    }
}
