using System.CommandLine;
using DepthPrune.Data;
using DepthPrune.Deployment;
using DepthPrune.Entropy;
using DepthPrune.Folding;
using DepthPrune.Methods;
using DepthPrune.Reporting;
using DepthPrune.Runtime;
using DepthPrune.Training;

namespace DepthPrune.Cli.Commands;

/// <summary>One command per method (easier, egp, nepenthe, imp, layerfold, random): the shared loop's
/// flags, plus the method's own (a flag of another method is an unknown option, exit 2).</summary>
public static class MethodCommand
{
    [Flags] enum Own { None = 0, PruneRatio = 1, FoldLambda = 2, Objective = 4, MaxRemovals = 8 }

    /// <summary>What --cheap sets when the flag itself is not given (EASIER: measured best in docs/RESULTS.md).</summary>
    const double CheapEarlyStop = 1, CheapEasierEarlyStop = 0.9;
    const int CheapMaxRemovals = 2, CheapProbeSample = 4096, CheapDamageSample = 4096;

    static readonly Dictionary<string, (string Description, Own Options)> Methods = new()
    {
        ["easier"] = ("EASIER: remove the lowest-entropy activation each iteration, fine-tune, repeat", Own.Objective | Own.MaxRemovals),
        ["egp"] = ("EGP: prune the weights feeding low-entropy layers (entropy-weighted budget) until layers reach zero entropy", Own.PruneRatio | Own.Objective),
        ["nepenthe"] = ("NEPENTHE: EGP generalised; always-OFF neurons are removed too", Own.PruneRatio | Own.Objective),
        ["imp"] = ("IMP baseline: iterative global magnitude pruning, counting the layers that reach zero entropy", Own.PruneRatio),
        ["layerfold"] = ("Layer Folding baseline: PReLU slopes pulled to 1, most linear set to Identity", Own.FoldLambda),
        ["random"] = ("Random baseline: remove a random activation each iteration (seeded by --seed)", Own.None),
    };

    public static IEnumerable<Command> All(TextWriter output, TextWriter error) => DepthMethod.Names.Select(n => Create(n, output, error));

    static Command Create(string name, TextWriter output, TextWriter error)
    {
        var (description, own) = Methods[name];
        var command = new Command(name, description);
        var modelArgs = new ModelArgs(command);
        var dataArgs = new DataArgs(command);
        var trainArgs = new TrainArgs(command, "--pretrain-epochs", "Epochs to train the dense model first (default: preset; ignored with --checkpoint)");
        var runArgs = new RunArgs(command, outputRequired: true);
        Option<string> checkpoint = PathOptions.InputFile("--checkpoint", "Start from this trained checkpoint instead of pretraining", required: false);
        Option<int> finetuneEpochs = NumberOptions.WithDefault("--finetune-epochs", "Fine-tuning epochs after each iteration", 1, v => v >= 0, "must be >= 0");
        Option<double?> finetuneLr = NumberOptions.Optional<double>("--finetune-lr", "Fine-tuning learning rate (default: 0.1 x the training rate)", v => v is > 0 and <= 100, "must lie in (0,100]");
        Option<double> tolerance = NumberOptions.WithDefault("--tolerance", "Stop when top-1 falls more than this many points below dense", 1.0, v => v >= 0, "must be >= 0 (top-1 points)");
        Option<double> toleranceConfidence = CommonOptions.ToleranceConfidence(ToleranceRule.DefaultConfidence);
        Option<int> maxIterations = NumberOptions.WithDefault("--max-iterations", "Stop after N iterations (0: no limit)", 0, v => v >= 0, "must be >= 0");
        Option<string> estimator = CommonOptions.Estimator();
        foreach (Option o in new Option[] { checkpoint, finetuneEpochs, finetuneLr, tolerance, toleranceConfidence, maxIterations, estimator })
            command.Options.Add(o);
        var defaults = new MethodOptions { Finetune = new Training.TrainOptions() };   // the library's defaults for the method-only flags
        Option<double> pruneRatio = NumberOptions.WithDefault("--prune-ratio", "zeta: fraction of the remaining weights pruned per iteration", defaults.PruneRatio, v => v is > 0 and < 1, "must lie in (0,1)");
        Option<double> foldLambda = NumberOptions.WithDefault("--fold-lambda", "Weight of the regulariser pulling PReLU slopes to 1", defaults.FoldLambda, v => v >= 0, "must be >= 0");
        if (own.HasFlag(Own.PruneRatio)) command.Options.Add(pruneRatio);
        Option<double> shareTemperature = NumberOptions.WithDefault("--share-temperature", "EGP/NEPENTHE: tau in the budget softmax((sum I)/(I_l tau)); 1 is the published rule, below 1 concentrates the budget on the lowest-importance layers", 1.0, v => v > 0, "must be positive");
        Option<int> damageSample = NumberOptions.WithDefault("--damage-sample", "Choose among the lowest-entropy candidates by the loss their removal costs on this many training images (0: entropy alone): EASIER with --objective entropy; EGP/NEPENTHE with --objective latency, which branch goes", 0, v => v >= 0, "must be >= 0 (images)");
        if (own.HasFlag(Own.Objective) && own.HasFlag(Own.PruneRatio)) command.Options.Add(shareTemperature);
        if (own.HasFlag(Own.Objective)) command.Options.Add(damageSample);
        if (own.HasFlag(Own.FoldLambda)) command.Options.Add(foldLambda);
        Option<string> objective = new("--objective") { Description = "entropy: remove by entropy alone, as published; latency: prefer low-entropy removals that let folding save MACs (docs/METHODS.md)", DefaultValueFactory = _ => "entropy" };
        objective.Validators.Add(r => { if (ParseObjective(r.GetValueOrDefault<string>()) is null) r.AddError($"--objective '{r.GetValueOrDefault<string>()}': expected entropy or latency"); });
        if (own.HasFlag(Own.Objective)) command.Options.Add(objective);
        Option<string> fold = new("--fold") { Description = "Final step: fold the best model with this policy (exact, macs or depth), measure it, write RUN/best.onnx (default: none)", DefaultValueFactory = _ => "none" };
        fold.Validators.Add(r => { string v = r.GetValueOrDefault<string>(); if (v != "none" && FoldCommand.ParsePolicy(v) is null) r.AddError($"--fold '{v}': expected none, exact, macs or depth"); });
        var (healEpochs, healLr) = FoldCommand.HealOptions();
        Option<string?> distill = new("--distill") { Description = "Fine-tune with distillation from the dense model: T,alpha (e.g. 4,0.5): (1-alpha) CE + alpha T^2 KL of the softened outputs" };
        distill.Validators.Add(r => { string? v = r.GetValueOrDefault<string?>(); if (v is not null && ParseDistill(v) is null) r.AddError($"--distill '{v}': expected T,alpha with T > 0 and alpha in [0,1], e.g. 4,0.5"); });
        foreach (Option o in new Option[] { distill, fold, healEpochs, healLr }) command.Options.Add(o);
        Option<double?> earlyStop = NumberOptions.Optional<double>("--early-stop", "End each fine-tune once validation top-1 is back within this fraction of --tolerance below dense (checked every --early-stop-every epochs; --finetune-epochs is the cap)", v => v is >= 0 and <= 1, "must lie in [0,1] (a fraction of --tolerance)");
        Option<double> earlyStopEvery = NumberOptions.WithDefault("--early-stop-every", "Epochs between the recovery checks of --early-stop", defaults.EarlyStopEvery, v => v > 0, "must be positive (epochs)");
        Option<int?> maxRemovals = NumberOptions.Optional<int>("--max-removals", "EASIER: removals one iteration may take when their entropies are clearly lowest (1: as published); an iteration that leaves the tolerance with several is rolled back and retried with half as many", v => v >= 1, "must be >= 1");
        Option<int?> probeSample = NumberOptions.Optional<int>("--probe-sample", "Measure entropy on this many training images first, doubled while the lowest layers are not separated within a 95% bound (0: the whole training split)", v => v >= 0, "must be >= 0 (images)");
        Option<bool> cheap = new("--cheap") { Description = $"Cheap mode: --early-stop {CheapEarlyStop} --probe-sample {CheapProbeSample}, --damage-sample {CheapDamageSample} where it applies (EASIER with --objective entropy, EGP/NEPENTHE with latency); for EASIER --early-stop {CheapEasierEarlyStop} --max-removals {CheapMaxRemovals}; unless given" };
        Option<int> finalEpochs = NumberOptions.WithDefault("--final-epochs", "Fine-tune the best model this many more epochs at the end, kept only if the stopping split's top-1 does not fall (0: none)", 0, v => v >= 0, "must be >= 0");
        foreach (Option o in new Option[] { earlyStop, earlyStopEvery, probeSample, cheap, finalEpochs }) command.Options.Add(o);
        Option<int> retries = NumberOptions.WithDefault("--retries", "EASIER: removals that may leave the tolerance, be undone and their activation kept while the next lowest is tried, before the run stops (0: as published)", 0, v => v >= 0, "must be >= 0");
        if (own.HasFlag(Own.MaxRemovals)) { command.Options.Add(maxRemovals); command.Options.Add(retries); }

        command.SetAction(parsed =>
        {
            // Measured damage chooses EASIER's activations (entropy objective) or EGP/NEPENTHE's branch (latency objective).
            bool damageApplies = own.HasFlag(Own.Objective) && (parsed.GetValue(objective) == "latency") == own.HasFlag(Own.PruneRatio);
            if (own.HasFlag(Own.Objective) && parsed.GetValue(damageSample) > 0 && !damageApplies)
                throw new UsageException($"--damage-sample: {name} uses it with --objective {(own.HasFlag(Own.PruneRatio) ? "latency" : "entropy")} only");
            var compute = runArgs.Start(parsed);
            int seed = runArgs.Seed(parsed);
            var job = JobSetup.Resolve(parsed, modelArgs, dataArgs, trainArgs, seed);
            var progress = new ConsoleProgress(error, runArgs.Quiet(parsed));
            string outDir = runArgs.Out(parsed)!;
            string current = Path.Combine(outDir, MethodRun.Current);
            bool resume = runArgs.Resume(parsed);
            if (resume && File.Exists(current))
            {
                var saved = Checkpoint.ReadMeta(current);
                modelArgs.RequireSameAs(parsed, saved, $"--resume: {current}");
                // Mid-pretraining, the dense model's schedule is the run's (the fine-tunes' flags may change and are recorded).
                if (saved is { Stage: "pretrain", Train: { } pretrain }) trainArgs.RequireSameAs(parsed, pretrain, $"--resume: {current}");
            }
            else if (parsed.GetValue(checkpoint) is { } start) modelArgs.RequireSameAs(parsed, Checkpoint.ReadMeta(start), $"--checkpoint {start}");
            using var data = DataBundle.Load(job.Data);
            if (!resume && parsed.GetValue(checkpoint) is null) job.ModelOptionsFor(data).RequireFits(job.ModelName, data.Name, data.SampleShape, data.Classes);
            bool isCheap = parsed.GetValue(cheap);
            var finetune = job.Train with { Epochs = parsed.GetValue(finetuneEpochs), LearningRate = parsed.GetValue(finetuneLr) ?? job.Train.LearningRate * 0.1, WarmupEpochs = 0 };
            var setup = new MethodRunSetup
            {
                OutDir = outDir, Data = data, DataOptions = job.Data, Compute = compute, Resume = runArgs.Resume(parsed), Recorded = r => RunReport.Write(outDir, r),
                DenseCheckpoint = parsed.GetValue(checkpoint), CreateModel = () => job.CreateModel(data), Pretrain = job.Train,
                Options = new MethodOptions
                {
                    Tolerance = parsed.GetValue(tolerance), ToleranceConfidence = parsed.GetValue(toleranceConfidence), MaxIterations = parsed.GetValue(maxIterations), PruneRatio = own.HasFlag(Own.PruneRatio) ? parsed.GetValue(pruneRatio) : defaults.PruneRatio,
                    Finetune = finetune, Estimator = CommonOptions.ParseEstimator(parsed.GetValue(estimator)!)!.Value, FoldLambda = own.HasFlag(Own.FoldLambda) ? parsed.GetValue(foldLambda) : defaults.FoldLambda, Seed = seed,
                    Objective = own.HasFlag(Own.Objective) ? ParseObjective(parsed.GetValue(objective)!)!.Value : defaults.Objective,
                    Distill = parsed.GetValue(distill) is { } pair ? ParseDistill(pair) : null,
                    ShareTemperature = own.HasFlag(Own.Objective) && own.HasFlag(Own.PruneRatio) ? parsed.GetValue(shareTemperature) : defaults.ShareTemperature,
                    DamageSample = parsed.GetResult(damageSample) is { Implicit: false } ? parsed.GetValue(damageSample)
                        : isCheap && damageApplies ? CheapDamageSample : defaults.DamageSample,
                    EarlyStop = parsed.GetValue(earlyStop) ?? (isCheap ? own.HasFlag(Own.MaxRemovals) ? CheapEasierEarlyStop : CheapEarlyStop : null),
                    EarlyStopEvery = parsed.GetValue(earlyStopEvery), FinalEpochs = parsed.GetValue(finalEpochs),
                    Retries = own.HasFlag(Own.MaxRemovals) ? parsed.GetValue(retries) : defaults.Retries,
                    MaxRemovals = own.HasFlag(Own.MaxRemovals) ? parsed.GetValue(maxRemovals) ?? (isCheap ? CheapMaxRemovals : defaults.MaxRemovals) : defaults.MaxRemovals,
                    ProbeSample = parsed.GetValue(probeSample) ?? (isCheap ? CheapProbeSample : defaults.ProbeSample),
                },
            };
            // config.yaml records the flags the run goes on with (a resumed run's accepted changes too).
            if (resume) MethodRun.RefuseMismatchedResume(name, setup);
            if (resume || !File.Exists(current)) RunArgs.SaveConfiguration(parsed, outDir);
            if (setup.DenseCheckpoint is null && !resume) progress.Line($"{name}: defaults for the training flags not given: {job.Preset.Notes}");
            var run = MethodRun.Run(DepthMethod.Create(name), setup, progress, progress.Line);
            if (runArgs.Json(parsed)) output.WriteLine(System.Text.Json.JsonSerializer.Serialize(run, Training.Checkpoint.Json));
            else RunTable.Write(output, run);
            if (FoldCommand.ParsePolicy(parsed.GetValue(fold)!) is { } policy && run.BestCheckpoint is { } best)
            {
                // The deployable model: the best checkpoint folded (and healed), measured on the test split.
                using var loaded = Checkpoint.Load(best, compute);
                var heal = finetune with { Epochs = parsed.GetValue(healEpochs), LearningRate = parsed.GetValue(healLr) };
                DeployStep.Run(best, loaded.Model, data, new DeploySettings(policy, OnnxPath: Path.Combine(outDir, "best.onnx"), Heal: heal), compute,
                    progress, runArgs.Json(parsed) ? null : output);
            }
            return CliApp.Ok;
        });
        return command;
    }


    static (double Temperature, double Alpha)? ParseDistill(string value)
    {
        var parts = value.Split(',');
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        if (parts.Length != 2 || !double.TryParse(parts[0], invariant, out double t) || !double.TryParse(parts[1], invariant, out double alpha)) return null;
        return t > 0 && alpha is >= 0 and <= 1 ? (t, alpha) : null;
    }

    static RemovalObjective? ParseObjective(string name) => name switch
    {
        "entropy" => RemovalObjective.Entropy,
        "latency" => RemovalObjective.Latency,
        _ => null,
    };
}
