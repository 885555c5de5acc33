using System.Diagnostics;
using System.Text.Json;
using DepthPrune.Data;
using DepthPrune.Entropy;
using DepthPrune.Models;
using DepthPrune.Pruning;
using DepthPrune.Runtime;
using DepthPrune.Training;
using TorchSharp;
using static TorchSharp.torch;

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
}

/// <summary>The iteration loop every method shares (DESIGN sections 2-4): probe entropies on the
/// training set, take the method's step, fine-tune with masks, evaluate, record, checkpoint;
/// stop when top-1 falls more than the tolerance below the dense model, after MaxIterations, or
/// when nothing is left. Resumable at any point from RUN/current.ckpt.</summary>
public static class MethodRun
{
    public const string Current = "current.ckpt", Dense = "dense.ckpt", Final = "final.ckpt", Record = "run.json";
    const string MaxIterationsReason = "reached --max-iterations";

    sealed record State
    {
        /// <summary>The method that started the run (null in checkpoints written before it was kept).</summary>
        public string? Method { get; init; }
        public string Phase { get; init; } = "pretrain";   // pretrain | finetune | iterated | done
        public int Iteration { get; init; }
        public RunRecord? Run { get; init; }
        public List<string> Pending { get; init; } = [];
        /// <summary>Removals the next step may take (EASIER; halved by a roll-back, doubled by a success).</summary>
        public int Budget { get; init; }
        /// <summary>Images probed for this iteration's step, before its fine-tuning.</summary>
        public long Probed { get; init; }
        /// <summary>Activations whose single removal left the tolerance and was undone (--retries): kept.</summary>
        public List<string> Kept { get; init; } = [];
        public int Retried { get; init; }
    }

    public static RunRecord Run(DepthMethod method, MethodRunSetup s, IProgress<TrainProgress>? progress = null, Action<string>? log = null)
    {
        s.Options.Validate();
        log ??= _ => { };
        string current = Path.Combine(s.OutDir, Current);
        RunFolder.RequireWritable(s.OutDir);   // the room it needs is checked once the model is known
        Checkpoint.Loaded? resumed = null;
        if (s.Resume)
        {
            RefuseMismatchedResume(method.Name, s);
            resumed = Checkpoint.Load(current, s.Compute);
            log($"resuming {current} ({resumed.Meta.Stage})");
        }
        else if (File.Exists(current))
            throw new UsageException($"--out {s.OutDir}: already holds a run ({current}); pass --resume to continue it or choose another folder");
        AtomicFile.RemoveUnfinished(s.OutDir);   // a killed run's temp files; what they were replacing is whole

        if (s.Options.EarlyStop is not null && s.Data.Validation is null)
            throw new UsageException("--early-stop: needs a validation split to judge recovery on (--val-split > 0)");
        State state = resumed?.Meta.MethodState is { } json ? json.Deserialize<State>(Checkpoint.Json)! : new State { Method = method.Name };
        if (state is { Phase: "done", Run.StopReason: var reason } && reason.StartsWith(MaxIterationsReason))
            state = state with { Phase = "iterated", Run = state.Run! with { Finished = false, StopReason = "" } };   // a raised limit continues
        ZooModel model = resumed?.Model ?? StartModel(s);
        var masks = resumed?.Masks ?? new PruningMasks();
        var o = model.Options;
        if (!s.Data.SampleShape.SequenceEqual(new long[] { o.InChannels, o.InputSize, o.InputSize }) || s.Data.Classes != o.Classes)
        {
            model.Dispose();
            masks.Dispose();
            throw new UsageException($"--dataset {s.Data.Name}: images [{string.Join(",", s.Data.SampleShape)}] in {s.Data.Classes} classes, " +
                $"but {model.Name} takes [{o.InChannels},{o.InputSize},{o.InputSize}] in {o.Classes} classes");
        }
        try
        {
            // current, dense and one per iteration (at least a few), before any work is spent.
            RunFolder.RequireRoom(s.OutDir, RunFolder.BytesFor(model, 3 + Math.Max(3, s.Options.MaxIterations)));
            model.Net.to(s.Compute.Device);
            var meta = new CheckpointMeta { Model = model.Name, ModelOptions = model.Options, Data = s.DataOptions };
            CheckpointMeta Meta(State st, string stage) => meta with { Stage = stage, MethodState = JsonSerializer.SerializeToElement(st, Checkpoint.Json) };
            var testLoader = s.Data.EvalLoader(s.Data.Test, 256, s.Compute);
            var valLoader = s.Data.Validation is null ? null : s.Data.EvalLoader(s.Data.Validation, 256, s.Compute);

            if (state.Phase == "pretrain")
            {
                if (s.DenseCheckpoint is null && s.Pretrain is { Epochs: > 0 } pretrain)
                {
                    log($"pretraining the dense model: {pretrain.Epochs} epochs");
                    TrainingRun.Run(model, s.Data, pretrain, s.Compute, current, Meta(state, "pretrain"), null, progress,
                        resumed?.Meta.Stage == "pretrain" ? resumed : null, log: log);
                }
                var denseRecord = Measure(model, masks, testLoader, valLoader, s, 0, [], new(), 0, Path.Combine(s.OutDir, Dense)) with
                {
                    ImagesTrained = s.DenseCheckpoint is null ? (long)(s.Pretrain?.Epochs ?? 0) * s.Data.Train.Count : 0,
                };
                Checkpoint.Save(Path.Combine(s.OutDir, Dense), model, Meta(state, "dense") with { Complete = true }, masks);
                state = new State
                {
                    Method = method.Name, Phase = "iterated",
                    Run = new RunRecord
                    {
                        Method = method.Name, Model = model.Name, Dataset = s.Data.Name, DenseTop1 = denseRecord.Top1, DenseValTop1 = denseRecord.ValTop1,
                        StoppingSplit = valLoader is null ? "test" : "validation", Tolerance = s.Options.Tolerance, PruneRatio = s.Options.PruneRatio,
                        Objective = s.Options.Objective.ToString().ToLowerInvariant(), ShareTemperature = s.Options.ShareTemperature,
                        Distill = s.Options.Distill is { } dd ? $"T={dd.Temperature.ToString(System.Globalization.CultureInfo.InvariantCulture)}, alpha={dd.Alpha.ToString(System.Globalization.CultureInfo.InvariantCulture)}" : null,
                        FinetuneEpochs = s.Options.Finetune.Epochs, Total = model.Slots.Count, Dense = denseRecord,
                        ToleranceConfidence = s.Options.ToleranceConfidence, SelectionRule = s.Options.Rule.Describe(valLoader is null ? "test" : "validation"),
                        EarlyStop = s.Options.EarlyStop, MaxRemovals = s.Options.MaxRemovals, Retries = s.Options.Retries, ProbeSample = s.Options.ProbeSample, DamageSample = s.Options.DamageSample,
                    },
                    Budget = s.Options.MaxRemovals,
                };
                Checkpoint.Save(current, model, Meta(state, "iterated"), masks);
                WriteRecord(s.OutDir, state.Run!);
                log($"dense: top-1 {denseRecord.Top1:F2}%{(denseRecord.ValTop1 is double v ? $" (validation {v:F2}%)" : "")}, {model.Slots.Count} activations, depth {denseRecord.Depth}");
            }
            log(valLoader is null
                ? "stopping on the test split: no validation split (--val-split 0), so the chosen model's test top-1 is not held out"
                : $"stopping on validation ({s.Data.Validation!.Count:N0} training images held out); test top-1 is reported, never used to stop");

            var run = state.Run!;
            double denseScore = run.DenseValTop1 ?? run.DenseTop1;
            var rule = s.Options.Rule;
            var denseHits = DenseHits(Path.Combine(s.OutDir, Dense), s.Compute, testLoader, valLoader);
            // The dense model teaches every fine-tuning when distillation is asked for.
            using var teacher = s.Options.Distill is null ? null : Checkpoint.Load(Path.Combine(s.OutDir, Dense), s.Compute);
            var distill = s.Options.Distill is { } d ? new Distillation(teacher!.Model.Net, d.Temperature, d.Alpha) : null;
            using var damageImages = s.Options.DamageSample > 0 ? RemovalDamage.Sample(s.Data.Train, s.Options.DamageSample, Seeding.Derive(s.Options.Seed, 5151)) : null;
            var damageSample = damageImages is null ? null : new BatchLoader(damageImages, s.Options.ProbeBatchSize, s.Data.EvalPipeline, shuffle: false, 0, s.Compute);
            SampledEntropy.Result? settled = null;
            // The run's model becomes a saved one (a roll-back, the final fine-tune's start).
            void LoadInPlace(string path)
            {
                var loaded = Checkpoint.Load(path, s.Compute);
                model.Dispose();
                masks.Dispose();
                (model, masks) = (loaded.Model, loaded.Masks ?? new PruningMasks());
                model.Net.to(s.Compute.Device);
            }
            int Budget() => Math.Max(1, state.Budget > 0 ? state.Budget : s.Options.MaxRemovals);
            int Wanted() => method.ChoosesRemovals ? Budget() : 1;
            SampledEntropy.Result Probe(int k) =>
                SampledEntropy.Measure(model, s.Data, s.Compute, s.Options.ProbeSample, Wanted(), Seeding.Derive(s.Options.Seed, 4242, k), s.Options.ProbeBatchSize, s.Options.Estimator);
            while (state.Phase is not ("done" or "final"))
            {
                int k = state.Phase == "finetune" ? state.Iteration : state.Iteration + 1;
                var clock = Stopwatch.StartNew();
                var context = (SampledEntropy.Result? probe) => new MethodContext
                {
                    Model = model, Masks = masks, Options = s.Options, Iteration = k, Entropies = probe?.Entropies ?? [], Bounds = probe?.Bounds,
                    MaxRemovals = Budget(), Kept = state.Kept, Random = new Random(Seeding.Derive(s.Options.Seed, 9001, k)), DamageSample = damageSample,
                };
                string? stop = s.Options.MaxIterations > 0 && k > s.Options.MaxIterations ? $"{MaxIterationsReason} {s.Options.MaxIterations}" : null;
                if (stop is null && state.Phase == "iterated")
                {
                    var probe = settled ?? Probe(k);
                    long probed = settled is null ? probe.ImagesProbed : 0;   // a settled probe was counted by the iteration before
                    settled = null;
                    var step = context(probe);
                    var newly = method.Before(step);
                    probed += step.ImagesEvaluated;
                    if (newly is null) stop = "nothing left to remove";
                    else
                    {
                        state = state with { Phase = "finetune", Iteration = k, Pending = [.. newly], Probed = probed };
                        Checkpoint.Save(current, model, Meta(state, "finetune"), masks);
                        log($"iteration {k}: {(newly.Count > 0 ? "removed " + string.Join(", ", newly) : method.Prunes ? "pruned" : "fine-tuning")}");
                    }
                }
                if (stop is not null)
                {
                    state = state with { Phase = "done", Run = run with { StopReason = stop, Finished = true } };
                    break;
                }

                // An iteration that a failure would roll back: several removals, or one that may be retried.
                bool several = Budget() > 1 && state.Pending.Count > 1;
                bool retryable = !several && method.ChoosesRemovals && state.Pending.Count > 0 && state.Retried < s.Options.Retries;
                var earlyStop = EarlyStopFor(model, s, valLoader, denseHits.Validation, denseScore, several ? Trial.Several : retryable ? Trial.Single : Trial.None, log);
                TrainingRun.Run(model, s.Data, s.Options.Finetune, s.Compute, current, Meta(state, "finetune"), method.Prunes ? masks : null, progress,
                    resumed?.Meta.Stage == "finetune" ? resumed : null, method.ExtraLoss(model, s.Options), log: log, distill: distill, earlyStop: earlyStop);
                resumed = null;
                var after = method.After(context(null));
                // Layers that fine-tuning or pruning left constant are linearized now (exactly, on
                // the probed images), so the record shows the model as evaluated; the probe also serves the next step.
                settled = Probe(k + 1);
                var exact = Linearize.ZeroEntropyLayers(model, settled.Entropies);
                string iterationPath = Path.Combine(s.OutDir, $"iter-{k}.ckpt");
                var record = Measure(model, masks, testLoader, valLoader, s, k, [.. state.Pending, .. after, .. exact],
                    settled.Entropies.ToDictionary(e => e.Name, e => e.Entropy), clock.Elapsed.TotalSeconds, iterationPath, denseHits);
                // Compute as an uninterrupted run spends it (the same after a resume): the probe
                // before the step (unless the last iteration's served) and the one after fine-tuning.
                record = record with
                {
                    ImagesTrained = earlyStop?.ImagesTrained(s.Options.Finetune, s.Data.Train.Count) ?? (long)s.Options.Finetune.Epochs * s.Data.Train.Count,
                    ImagesProbed = state.Probed + settled.ImagesProbed, ProbeSample = settled.SampleSize,
                    StoppedEarly = earlyStop?.StoppedAt is var (se, sb) ? $"{earlyStop.Reason} at epoch {se + 1}, batch {sb}" : null,
                };
                record = record with { WithinTolerance = rule.Within(record.ValDifference ?? record.TestDifference!) };
                if (!record.WithinTolerance && (several || retryable))
                {
                    // Undo the iteration; retry it with half as many removals, or (one removal) keep
                    // that activation and go on with the next lowest.
                    string previous = run.Iterations.LastOrDefault()?.Checkpoint ?? Path.Combine(s.OutDir, Dense);
                    int retry = several ? Math.Max(1, Math.Min(Budget(), state.Pending.Count) / 2) : Budget();
                    var undone = state.Pending;
                    LoadInPlace(previous);
                    settled = null;
                    run = run with { RolledBack = [.. run.RolledBack, record with { WithinTolerance = false, Checkpoint = previous }] };
                    state = state with { Phase = "iterated", Iteration = k - 1, Run = run, Pending = [], Budget = retry, Probed = 0, Kept = several ? state.Kept : [.. state.Kept, .. undone], Retried = state.Retried + (several ? 0 : 1) };
                    log($"iteration {k}: removed {string.Join(", ", record.NewlyRemoved)}, top-1 {record.Top1:F2}% - below tolerance; rolled back to {Path.GetFileName(previous)}, " +
                        (several ? $"retrying with at most {retry} removal(s)" : $"keeping {string.Join(", ", undone)} (retry {state.Retried} of {s.Options.Retries})"));
                    Checkpoint.Save(current, model, Meta(state, "iterated"), masks);
                    WriteRecord(s.OutDir, run);
                    continue;
                }
                run = run with { Iterations = [.. run.Iterations, record] };
                if (record.WithinTolerance) run = run with { BestIteration = k, BestCheckpoint = iterationPath };
                state = state with { Phase = "iterated", Iteration = k, Run = run, Pending = [], Probed = 0, Budget = NextAllowance(Budget(), s.Options.MaxRemovals, earlyStop, judged: s.Options.EarlyStop is not null, BatchesPerEpoch(s)) };
                Checkpoint.Save(iterationPath, model, Meta(state, "iteration"), masks);
                log($"iteration {k}: removed {record.Removed}/{record.Total}, top-1 {record.Top1:F2}%{(record.ValTop1 is double vt ? $" (validation {vt:F2}%)" : "")}, {Judged(record.ValDifference ?? record.TestDifference!, rule)}, sparsity {record.Sparsity:P1}, depth {record.Depth} (linear {record.LinearDepth}), " +
                    $"fine-tuned on {record.ImagesTrained:N0} images{(record.StoppedEarly is null ? "" : $" ({earlyStop!.Reason})")}{(record.WithinTolerance ? "" : " - below tolerance")}");
                if (!record.WithinTolerance) { state = state with { Phase = "done", Run = run with { StopReason = rule.Confidence == 0.5 ? $"top-1 fell more than {s.Options.Tolerance} points below dense"
                    : FormattableString.Invariant($"the lower {rule.Confidence:0.##%} bound of top-1 minus dense fell below -{s.Options.Tolerance} points"), Finished = true } }; }
                else if (record.Removed == record.Total && !method.Prunes) { state = state with { Phase = "done", Run = run with { StopReason = "every activation removed", Finished = true } }; }
                Checkpoint.Save(current, model, Meta(state, state.Phase), masks);
                WriteRecord(s.OutDir, state.Run!);
            }
            run = state.Run!;
            if (s.Options.FinalEpochs > 0 && run.BestCheckpoint is { } best && run.Final is null)
            {
                // A longer fine-tune of the best model, kept only if the stopping split's top-1 does not fall.
                if (resumed?.Meta.Stage != "final") LoadInPlace(best);
                state = state with { Phase = "final" };
                var clock = Stopwatch.StartNew();
                var finalOptions = s.Options.Finetune with { Epochs = s.Options.FinalEpochs };
                log($"final fine-tune of the best model (iteration {run.BestIteration}): {finalOptions.Epochs} epochs");
                TrainingRun.Run(model, s.Data, finalOptions, s.Compute, current, Meta(state, "final"), method.Prunes ? masks : null, progress,
                    resumed?.Meta.Stage == "final" ? resumed : null, method.ExtraLoss(model, s.Options), log: log, distill: distill);
                var before = run.Iterations.Last(i => i.Checkpoint == best);
                string finalPath = Path.Combine(s.OutDir, Final);
                var final = Measure(model, masks, testLoader, valLoader, s, before.Iteration, [], [], clock.Elapsed.TotalSeconds, finalPath, denseHits) with
                {
                    ImagesTrained = (long)finalOptions.Epochs * s.Data.Train.Count,
                };
                bool kept = (final.ValTop1 ?? final.Top1) >= (before.ValTop1 ?? before.Top1);
                final = final with { WithinTolerance = kept };
                Checkpoint.Save(finalPath, model, Meta(state, "final-model") with { Complete = true }, masks);
                run = run with { Final = final, BestCheckpoint = kept ? finalPath : best };
                state = state with { Phase = "done", Run = run };
                log($"final fine-tune: top-1 {before.Top1:F2}% -> {final.Top1:F2}%{(final.ValTop1 is double fv ? $" (validation {before.ValTop1:F2}% -> {fv:F2}%)" : "")}, " +
                    (kept ? $"kept: {finalPath}" : $"not kept (the stopping split's top-1 fell); best stays {best}"));
            }
            Checkpoint.Save(current, model, Meta(state, "done"), masks);
            WriteRecord(s.OutDir, run);
            return run;
        }
        finally
        {
            model.Dispose();
            masks.Dispose();
        }
    }

    /// <summary>A resumed run continues the run in OutDir only: the same method on the same cut of
    /// the same data (the validation split decides, so a different cut would judge on other images).</summary>
    public static void RefuseMismatchedResume(string methodName, MethodRunSetup s)
    {
        string current = Path.Combine(s.OutDir, Current);
        if (!File.Exists(current)) throw new UsageException($"--resume: no {current} to resume from");
        var meta = Checkpoint.ReadMeta(current);
        var state = meta.MethodState?.Deserialize<State>(Checkpoint.Json);
        if ((state?.Method ?? state?.Run?.Method) is { } started && started != methodName)
            throw new UsageException($"--resume: {current} is a {started} run; continue it with `depthprune {started} ... --resume`, or start {methodName} in another --out");
        meta.Data?.RequireSameCutFor(s.DataOptions, current);
    }

    internal const string Recovered = "recovered", Plateau = "within tolerance, no longer improving", GaveUp = "gave up";

    /// <summary>Removals allowed after an accepted iteration: twice as many (up to max) only when
    /// it had room to spare, back within a quarter epoch (the first check at or after it), or
    /// always when no check judges recovery.</summary>
    internal static int NextAllowance(int current, int max, EarlyStop? earlyStop, bool judged, int batchesPerEpoch) =>
        !judged || earlyStop is { Reason: Recovered, StoppedPosition: long at } && at <= FirstCheckFrom(TrainOptions.BatchesPer(0.25, batchesPerEpoch), earlyStop.EveryBatches)
            ? Math.Min(max, 2 * current) : current;

    static long FirstCheckFrom(long position, int every) => (position + every - 1) / every * every;

    /// <summary>What a failed fine-tune would lead to: the run's end (None), or a roll-back of one
    /// removal (Single, under --retries) or of several taken at once (Several).</summary>
    enum Trial { None, Single, Several }

    /// <summary>The check that ends a fine-tune once validation top-1 is back within
    /// EarlyStop x tolerance of dense, or within the tolerance and no better than at the check
    /// before (null when fine-tunes run their whole schedule). A trial (an iteration a failure
    /// rolls back) also gives up once clearly failing, so a failed attempt costs half an epoch or
    /// one, not the whole cap; several removals at once are given up unless back by the second check.</summary>
    static EarlyStop? EarlyStopFor(ZooModel model, MethodRunSetup s, BatchLoader? validation, List<bool>? denseHits, double denseScore, Trial trial, Action<string> log)
    {
        if (s.Options.EarlyStop is not double fraction || validation is null || denseHits is null) return null;
        var rule = s.Options.Rule;
        int batchesPerEpoch = BatchesPerEpoch(s);
        int every = TrainOptions.BatchesPer(s.Options.EarlyStopEvery, batchesPerEpoch);
        // Give-up points in epochs, whatever the check spacing: at or after half an epoch, and one epoch.
        int half = TrainOptions.BatchesPer(0.5, batchesPerEpoch), one = TrainOptions.BatchesPer(1, batchesPerEpoch);
        double? previous = null;   // not kept in checkpoints: a fine-tune resumed mid-way needs one more check to see a plateau
        string? Verdict(double top1, PairedDifference difference, long position)
        {
            bool plateau = previous is double p && top1 <= p;
            previous = top1;
            if (rule.Within(difference, fraction)) return Recovered;
            if (plateau && rule.Within(difference)) return Plateau;
            // Clearly failing: twice the tolerance down after half an epoch, or still outside it after
            // one. Several removals get half an epoch: falling back to fewer costs less than waiting.
            bool hopeless = position >= half && top1 < denseScore - (trial == Trial.Several ? 1 : 2) * s.Options.Tolerance
                || position >= one && top1 < denseScore - s.Options.Tolerance;
            return trial != Trial.None && hopeless ? GaveUp : null;
        }
        return new EarlyStop
        {
            EveryBatches = every,
            Check = position =>
            {
                var hits = new List<bool>();
                double top1 = Evaluation.Run(model, validation, hits).Top1;
                var difference = rule.Compare(hits, denseHits);
                string? reason = Verdict(top1, difference, position);
                log(FormattableString.Invariant($"  check after {(double)position / batchesPerEpoch:0.##} epochs: validation {top1:F2}%, {Judged(difference, rule)} (recovered at {-fraction * s.Options.Tolerance:F2}){(reason is null ? "" : ": " + reason)}"));
                return reason;
            },
        };
    }

    static int BatchesPerEpoch(MethodRunSetup s) => (s.Data.Train.Count + s.Options.Finetune.BatchSize - 1) / s.Options.Finetune.BatchSize;

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

    /// <summary>"-0.42 vs dense (95% bound -0.81)": a paired difference as the rule judges it.</summary>
    static string Judged(PairedDifference d, ToleranceRule rule) => rule.Confidence == 0.5
        ? FormattableString.Invariant($"{d.Difference:+0.00;-0.00} vs dense")
        : FormattableString.Invariant($"{d.Difference:+0.00;-0.00} vs dense ({rule.Confidence:0.##%} bound {d.Lower:+0.00;-0.00})");

    /// <summary>The dense model's per-image top-1 hits, the reference of every paired difference
    /// (read from dense.ckpt, so a resumed run compares against exactly what a fresh one did).</summary>
    sealed record Hits(List<bool> Test, List<bool>? Validation);

    static Hits DenseHits(string densePath, Compute compute, BatchLoader test, BatchLoader? val)
    {
        using var dense = Checkpoint.Load(densePath, compute);
        dense.Model.Net.to(compute.Device);
        var testHits = new List<bool>();
        Evaluation.Run(dense.Model, test, testHits);
        List<bool>? valHits = val is null ? null : [];
        if (val is not null) Evaluation.Run(dense.Model, val, valHits);
        return new Hits(testHits, valHits);
    }

    static IterationRecord Measure(ZooModel model, PruningMasks masks, BatchLoader test, BatchLoader? val, MethodRunSetup s, int k,
        List<string> newly, Dictionary<string, double> entropies, double seconds, string checkpoint, Hits? dense = null)
    {
        var testHits = new List<bool>();
        var testResult = Evaluation.Run(model, test, testHits);
        List<bool>? valHits = val is null ? null : [];
        double? valTop1 = val is null ? null : Evaluation.Run(model, val, valHits).Top1;
        var cost = ModelCost.Measure(model, s.Compute.Device);
        var layerSparsity = new Dictionary<string, double>();
        long zeros = 0, total = 0;
        foreach (var layer in model.Structure.PruningPairs().Select(p => p.Layer).DistinctBy(l => l.Module))
        {
            var w = model.Weight(layer);
            long nz = w.count_nonzero().item<long>();
            layerSparsity[layer.Module] = 1 - (double)nz / w.numel();
            zeros += w.numel() - nz;
            total += w.numel();
        }
        return new IterationRecord
        {
            Iteration = k, Removed = Linearize.RemovedCount(model), Total = model.Slots.Count,
            RemovedNames = model.Structure.Activations.Where(n => model.Slots[n].IsLinear).ToList(), NewlyRemoved = newly,
            Top1 = testResult.Top1, ValTop1 = valTop1, Loss = testResult.Loss, Sparsity = total == 0 ? 0 : (double)zeros / total,
            LayerSparsity = layerSparsity, Entropies = entropies, Params = cost.Parameters, NonzeroParams = cost.NonzeroParameters,
            Macs = cost.Macs, NonzeroMacs = cost.NonzeroMacs, Depth = cost.Depth, LinearDepth = cost.LinearDepth,
            WithinTolerance = true, Seconds = seconds, Checkpoint = checkpoint,
            TestDifference = dense is null ? null : s.Options.Rule.Compare(testHits, dense.Test),
            ValDifference = dense?.Validation is null || valHits is null ? null : s.Options.Rule.Compare(valHits, dense.Validation),
        };
    }

    /// <summary>run.json and the report.md made from it, rewritten as iterations land.</summary>
    static void WriteRecord(string dir, RunRecord run)
    {
        AtomicFile.WriteText(Path.Combine(dir, Record), JsonSerializer.Serialize(run, Checkpoint.Json));
        Reporting.RunReport.Write(dir, run);
    }
}
