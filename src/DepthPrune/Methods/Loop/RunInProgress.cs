using System.Diagnostics;
using System.Text.Json;
using DepthPrune.Data;
using DepthPrune.Entropy;
using DepthPrune.Models;
using DepthPrune.Pruning;
using DepthPrune.Runtime;
using DepthPrune.Training;
using TorchSharp;

namespace DepthPrune.Methods;

/// <summary>One method run while it runs: its model, masks and state, and one method per step of
/// the loop MethodRun.Run spells out. Every step that changes the state checkpoints it.</summary>
sealed class RunInProgress : IDisposable
{
    readonly DepthMethod method;
    readonly MethodRunSetup s;
    readonly IProgress<TrainProgress>? progress;
    readonly Action<string> log;
    readonly RemovalAllowance allowance;
    readonly ToleranceRule rule;
    readonly CheckpointMeta meta;
    readonly IterationMeasurement measure;
    readonly string current, densePath;
    ZooModel model;
    PruningMasks masks;
    Checkpoint.Loaded? resumed;
    public RunState State { get; private set; }

    // Set by Prepare: the dense model's per-image hits, its score on the stopping split, the
    // teacher when distilling, the images a removal's damage is measured on.
    IterationMeasurement.Hits denseHits = null!;
    double denseScore;
    Checkpoint.Loaded? teacher;
    Distillation? distill;
    ImageSet? damageImages;
    BatchLoader? damageSample;
    /// <summary>The probe after the last fine-tune, which also serves the next step.</summary>
    SampledEntropy.Result? settled;
    Stopwatch clock = new();

    RunInProgress(DepthMethod method, MethodRunSetup s, IProgress<TrainProgress>? progress, Action<string> log, RunState state, ZooModel model, PruningMasks masks, Checkpoint.Loaded? resumed)
    {
        (this.method, this.s, this.progress, this.log, State, this.model, this.masks, this.resumed) = (method, s, progress, log, state, model, masks, resumed);
        allowance = RemovalAllowance.For(method, s.Options);
        rule = s.Options.Rule;
        current = Path.Combine(s.OutDir, MethodRun.Current);
        densePath = Path.Combine(s.OutDir, MethodRun.Dense);
        meta = new CheckpointMeta { Model = model.Name, ModelOptions = model.Options, Data = s.DataOptions };
        measure = new IterationMeasurement(s.Data.EvalLoader(s.Data.Test, 256, s.Compute),
            s.Data.Validation is null ? null : s.Data.EvalLoader(s.Data.Validation, 256, s.Compute), s.Compute, rule);
    }

    /// <summary>Checks the setup, then starts the run or picks it up from RUN/current.ckpt.</summary>
    public static RunInProgress Open(DepthMethod method, MethodRunSetup s, IProgress<TrainProgress>? progress, Action<string> log)
    {
        s.Options.Validate();
        string current = Path.Combine(s.OutDir, MethodRun.Current);
        RunFolder.RequireWritable(s.OutDir);   // the room it needs is checked once the model is known
        Checkpoint.Loaded? resumed = null;
        if (s.Resume)
        {
            MethodRun.RefuseMismatchedResume(method.Name, s);
            resumed = Checkpoint.Load(current, s.Compute);
            log($"resuming {current} ({resumed.Meta.Stage})");
        }
        else if (File.Exists(current))
            throw new UsageException($"--out {s.OutDir}: already holds a run ({current}); pass --resume to continue it or choose another folder");
        AtomicFile.RemoveUnfinished(s.OutDir);   // a killed run's temp files; what they were replacing is whole
        if (s.Options.EarlyStop is not null && s.Data.Validation is null)
            throw new UsageException("--early-stop: needs a validation split to judge recovery on (--val-split > 0)");

        var state = resumed?.Meta.MethodState is { } json ? json.Deserialize<RunState>(Checkpoint.Json)! : new RunState { Method = method.Name };
        if (state is { Phase: RunPhase.Done, StoppedBy: RunStop.MaxIterations })
            state = state with { Phase = RunPhase.Iterated, Stop = null, Run = state.Run! with { Finished = false, StopReason = "" } };   // a raised limit continues
        var model = resumed?.Model ?? StartModel(s);
        var masks = resumed?.Masks ?? new PruningMasks();
        var run = new RunInProgress(method, s, progress, log, state, model, masks, resumed);
        try
        {
            var o = model.Options;
            if (!s.Data.SampleShape.SequenceEqual(new long[] { o.InChannels, o.InputSize, o.InputSize }) || s.Data.Classes != o.Classes)
                throw new UsageException($"--dataset {s.Data.Name}: images [{string.Join(",", s.Data.SampleShape)}] in {s.Data.Classes} classes, " +
                    $"but {model.Name} takes [{o.InChannels},{o.InputSize},{o.InputSize}] in {o.Classes} classes");
            // current, dense and one per iteration (at least a few), before any work is spent.
            RunFolder.RequireRoom(s.OutDir, ModelCost.RunBytes(model, 3 + Math.Max(3, s.Options.MaxIterations)));
            model.Net.to(s.Compute.Device);
            return run;
        }
        catch
        {
            run.Dispose();
            throw;
        }
    }

    static ZooModel StartModel(MethodRunSetup s)
    {
        if (s.DenseCheckpoint is null)
            return s.CreateModel?.Invoke() ?? throw new UsageException("--checkpoint or a model to pretrain is required");
        var loaded = Checkpoint.Load(s.DenseCheckpoint, s.Compute);
        // A run's dense.ckpt is a finished model (written without the flag before it was set).
        if (!loaded.Meta.Complete && loaded.Meta.Stage != "dense") throw new UsageException($"--checkpoint {s.DenseCheckpoint}: training did not finish (epoch {loaded.Meta.Epoch}); resume it first");
        loaded.Masks?.Dispose();
        return loaded.Model;
    }

    /// <summary>Pretrains the dense model when asked to, measures it and saves it as dense.ckpt.</summary>
    public void MeasureDense()
    {
        if (s.DenseCheckpoint is null && s.Pretrain is { Epochs: > 0 } pretrain)
        {
            log($"pretraining the dense model: {pretrain.Describe()}, on {s.Data.Train.Count:N0} training images");
            TrainingRun.Run(model, s.Data, pretrain, s.Compute, current, Meta("pretrain"), null, progress,
                resumed?.Meta.Stage == "pretrain" ? resumed : null, log: log);
        }
        var dense = measure.Measure(model, 0, [], [], 0, densePath) with
        {
            ImagesTrained = s.DenseCheckpoint is null ? (long)(s.Pretrain?.Epochs ?? 0) * s.Data.Train.Count : 0,
        };
        Checkpoint.Save(densePath, model, Meta("dense") with { Complete = true }, masks);
        var run = RunRecord.Start(method.Name, model, s.Data.Name, s.Options, dense, measure.Validation is null ? "test" : "validation");
        State = new RunState { Method = method.Name, Phase = RunPhase.Iterated, Run = run, Budget = s.Options.MaxRemovals };
        Save(current, "iterated");
        WriteRecord(run);
        log($"dense: top-1 {dense.Top1:F2}%{(dense.ValTop1 is double v ? $" (validation {v:F2}%)" : "")}, {model.Slots.Count} activations, depth {dense.Depth}");
    }

    /// <summary>What every iteration compares with: the dense model's hits, its teacher, the damage sample.</summary>
    public void Prepare()
    {
        log(measure.Validation is null
            ? "stopping on the test split: no validation split (--val-split 0), so the chosen model's test top-1 is not held out"
            : $"stopping on validation ({s.Data.Validation!.Count:N0} training images held out); test top-1 is reported, never used to stop");
        denseScore = State.Run!.DenseValTop1 ?? State.Run.DenseTop1;
        denseHits = measure.DenseHits(densePath);
        // The dense model teaches every fine-tuning when distillation is asked for.
        teacher = s.Options.Distill is null ? null : Checkpoint.Load(densePath, s.Compute);
        distill = s.Options.Distill is { } d ? new Distillation(teacher!.Model.Net, d.Temperature, d.Alpha) : null;
        damageImages = s.Options.DamageSample > 0 ? RemovalDamage.Sample(s.Data.Train, s.Options.DamageSample, Seeding.Derive(s.Options.Seed, 5151)) : null;
        damageSample = damageImages is null ? null : new BatchLoader(damageImages, s.Options.ProbeBatchSize, s.Data.EvalPipeline, shuffle: false, 0, s.Compute);
    }

    /// <summary>Probes and takes the method's step for iteration k (unless its fine-tune is what
    /// remains of it); false when the run stops instead: the iteration limit, or nothing left.</summary>
    public bool TakeStep(int k)
    {
        clock = Stopwatch.StartNew();
        if (s.Options.MaxIterations > 0 && k > s.Options.MaxIterations)
        {
            State = State.Stopped(RunStop.MaxIterations, $"{MethodRun.MaxIterationsReason} {s.Options.MaxIterations}");
            return false;
        }
        if (State.Phase != RunPhase.Iterated) return true;
        var probe = settled ?? Probe(k);
        long probed = State.ProbeCounted ? 0 : probe.ImagesProbed;
        settled = null;
        var step = Context(k, probe);
        var newly = method.Before(step);
        if (newly is null)
        {
            State = State.Stopped(RunStop.NothingLeft, "nothing left to remove");
            return false;
        }
        State = State with { Phase = RunPhase.Finetune, Iteration = k, Pending = [.. newly], PendingReason = step.Reason, Probed = probed + step.ImagesEvaluated, ProbeCounted = false };
        Save(current, "finetune");
        log($"iteration {k}: {(newly.Count > 0 ? "removed " + string.Join(", ", newly) : method.Prunes ? "pruned" : "fine-tuning")}{(step.Reason is { } why ? $" ({why})" : "")}");
        return true;
    }

    /// <summary>Fine-tunes iteration k's model (ended early by the recovery check when asked for),
    /// lets the method decide after it, linearizes what went constant and measures the result.</summary>
    public (IterationRecord Record, EarlyStop? EarlyStop, Trial Trial) FineTuneAndMeasure(int k)
    {
        var trial = allowance.TrialOf(State);
        var earlyStop = RecoveryCheck.For(model, s.Options, measure.Validation, denseHits.Validation, denseScore, BatchesPerEpoch, trial, log);
        TrainingRun.Run(model, s.Data, s.Options.Finetune, s.Compute, current, Meta("finetune"), method.Prunes ? masks : null, progress,
            resumed?.Meta.Stage == "finetune" ? resumed : null, method.ExtraLoss(model, s.Options), log: log, distill: distill, earlyStop: earlyStop);
        resumed = null;
        var after = method.After(Context(k, null));
        // Layers that fine-tuning or pruning left constant are linearized now (exactly, on the
        // probed images), so the record shows the model as evaluated; the probe also serves the next step.
        settled = Probe(k + 1);
        var exact = Linearize.ZeroEntropyLayers(model, settled.Entropies);
        var record = measure.Measure(model, k, [.. State.Pending, .. after, .. exact],
            settled.Entropies.ToDictionary(e => e.Name, e => e.Entropy), clock.Elapsed.TotalSeconds, IterationPath(k), denseHits);
        // Compute as an uninterrupted run spends it (the same after a resume): the probe before
        // the step (unless the last iteration's served) and the one after fine-tuning.
        record = record with
        {
            ImagesTrained = earlyStop?.ImagesTrained(s.Options.Finetune, s.Data.Train.Count) ?? (long)s.Options.Finetune.Epochs * s.Data.Train.Count,
            ImagesProbed = State.Probed + settled.ImagesProbed, ProbeSample = settled.SampleSize,
            Reason = State.PendingReason,
            StoppedEarly = earlyStop?.StoppedAt is var (se, sb) ? $"{earlyStop.Reason} at epoch {se + 1}, batch {sb}" : null,
        };
        return (record with { WithinTolerance = rule.Within(record.ValDifference ?? record.TestDifference!) }, earlyStop, trial);
    }

    /// <summary>Undoes iteration k, which left the tolerance, as the allowance says.</summary>
    public void RollBack(int k, IterationRecord record, Trial trial)
    {
        var run = State.Run!;
        string previous = run.Iterations.LastOrDefault()?.Checkpoint ?? densePath;
        var undone = State.Pending;
        LoadInPlace(previous);
        settled = null;
        run = run with { RolledBack = [.. run.RolledBack, record with { WithinTolerance = false, Checkpoint = previous }] };
        State = allowance.RolledBack(State, trial) with { Phase = RunPhase.Iterated, Iteration = k - 1, Run = run, Pending = [], Probed = 0, ProbeCounted = false };
        log($"iteration {k}: removed {string.Join(", ", record.NewlyRemoved)}, top-1 {record.Top1:F2}% - below tolerance; rolled back to {Path.GetFileName(previous)}, " +
            (trial == Trial.Several ? $"retrying with at most {State.Budget} removal(s)" : $"keeping {string.Join(", ", undone)} (retry {State.Retried} of {s.Options.Retries})"));
        Save(current, "iterated");
        WriteRecord(run);
    }

    /// <summary>Keeps iteration k; the run ends when it left the tolerance or removed everything.</summary>
    public void Accept(int k, IterationRecord record, EarlyStop? earlyStop)
    {
        var run = State.Run! with { Iterations = [.. State.Run!.Iterations, record] };
        if (record.WithinTolerance) run = run with { BestIteration = k, BestCheckpoint = IterationPath(k) };
        State = State with
        {
            Phase = RunPhase.Iterated, Iteration = k, Run = run, Pending = [], Probed = 0, ProbeCounted = true,
            Budget = allowance.AfterSuccess(State, earlyStop, judged: s.Options.EarlyStop is not null, BatchesPerEpoch),
        };
        Save(IterationPath(k), "iteration");
        log($"iteration {k}: removed {record.Removed}/{record.Total}, top-1 {record.Top1:F2}%{(record.ValTop1 is double vt ? $" (validation {vt:F2}%)" : "")}, " +
            $"{rule.Judged(record.ValDifference ?? record.TestDifference!)}, sparsity {record.Sparsity:P1}, depth {record.Depth} (linear {record.LinearDepth}), " +
            $"fine-tuned on {record.ImagesTrained:N0} images{(record.StoppedEarly is null ? "" : $" ({earlyStop!.Reason})")}{(record.WithinTolerance ? "" : " - below tolerance")}");
        if (!record.WithinTolerance) State = State.Stopped(RunStop.OutsideTolerance, rule.Broken);
        else if (record.Removed == record.Total && !method.Prunes) State = State.Stopped(RunStop.EveryActivationRemoved, "every activation removed");
        Save(current, State.Phase == RunPhase.Done ? "done" : "iterated");
        WriteRecord(State.Run!);
    }

    /// <summary>A longer fine-tune of the best model (--final-epochs), kept only if the stopping
    /// split's top-1 does not fall.</summary>
    public void FinalFineTune()
    {
        var run = State.Run!;
        if (s.Options.FinalEpochs <= 0 || run.BestCheckpoint is not { } best || run.Final is not null) return;
        if (resumed?.Meta.Stage != "final") LoadInPlace(best);
        State = State with { Phase = RunPhase.Final };
        var finalClock = Stopwatch.StartNew();
        var finalOptions = s.Options.Finetune with { Epochs = s.Options.FinalEpochs };
        log($"final fine-tune of the best model (iteration {run.BestIteration}): {finalOptions.Epochs} epochs");
        TrainingRun.Run(model, s.Data, finalOptions, s.Compute, current, Meta("final"), method.Prunes ? masks : null, progress,
            resumed?.Meta.Stage == "final" ? resumed : null, method.ExtraLoss(model, s.Options), log: log, distill: distill);
        var before = run.Iterations.Last(i => i.Checkpoint == best);
        string finalPath = Path.Combine(s.OutDir, MethodRun.Final);
        var final = measure.Measure(model, before.Iteration, [], [], finalClock.Elapsed.TotalSeconds, finalPath, denseHits) with
        {
            ImagesTrained = (long)finalOptions.Epochs * s.Data.Train.Count,
        };
        bool kept = (final.ValTop1 ?? final.Top1) >= (before.ValTop1 ?? before.Top1);
        final = final with { WithinTolerance = kept };
        Checkpoint.Save(finalPath, model, Meta("final-model") with { Complete = true }, masks);
        State = State with { Phase = RunPhase.Done, Run = run with { Final = final, BestCheckpoint = kept ? finalPath : best } };
        log($"final fine-tune: top-1 {before.Top1:F2}% -> {final.Top1:F2}%{(final.ValTop1 is double fv ? $" (validation {before.ValTop1:F2}% -> {fv:F2}%)" : "")}, " +
            (kept ? $"kept: {finalPath}" : $"not kept (the stopping split's top-1 fell); best stays {best}"));
    }

    public RunRecord Finish()
    {
        Save(current, "done");
        WriteRecord(State.Run!);
        return State.Run!;
    }

    public void Dispose()
    {
        model.Dispose();
        masks.Dispose();
        teacher?.Dispose();
        damageImages?.Dispose();
    }

    int BatchesPerEpoch => (s.Data.Train.Count + s.Options.Finetune.BatchSize - 1) / s.Options.Finetune.BatchSize;

    string IterationPath(int k) => Path.Combine(s.OutDir, $"iter-{k}.ckpt");

    CheckpointMeta Meta(string stage) => meta with { Stage = stage, MethodState = JsonSerializer.SerializeToElement(State, Checkpoint.Json) };

    void Save(string path, string stage) => Checkpoint.Save(path, model, Meta(stage), masks);

    SampledEntropy.Result Probe(int k) => SampledEntropy.Measure(model, s.Data, s.Compute, s.Options.ProbeSample, allowance.Wanted(State),
        Seeding.Derive(s.Options.Seed, 4242, k), s.Options.ProbeBatchSize, s.Options.Estimator);

    MethodContext Context(int k, SampledEntropy.Result? probe) => new()
    {
        Model = model, Masks = masks, Options = s.Options, Iteration = k, Entropies = probe?.Entropies ?? [], Bounds = probe?.Bounds,
        MaxRemovals = allowance.Allowed(State), Kept = State.Kept, Random = new Random(Seeding.Derive(s.Options.Seed, 9001, k)), DamageSample = damageSample,
    };

    /// <summary>The run's model becomes a saved one (a roll-back, the final fine-tune's start).</summary>
    void LoadInPlace(string path)
    {
        var loaded = Checkpoint.Load(path, s.Compute);
        model.Dispose();
        masks.Dispose();
        (model, masks) = (loaded.Model, loaded.Masks ?? new PruningMasks());
        model.Net.to(s.Compute.Device);
    }

    /// <summary>run.json, rewritten as iterations land; then whatever the caller attached.</summary>
    void WriteRecord(RunRecord run)
    {
        AtomicFile.WriteText(Path.Combine(s.OutDir, MethodRun.Record), JsonSerializer.Serialize(run, Checkpoint.Json));
        s.Recorded?.Invoke(run);
    }
}
