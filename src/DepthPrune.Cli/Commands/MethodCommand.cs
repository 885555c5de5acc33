using System.CommandLine;
using DepthPrune.Data;
using DepthPrune.Deployment;
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
    static readonly Dictionary<string, string> Descriptions = new()
    {
        ["easier"] = "EASIER: remove the lowest-entropy activation each iteration, fine-tune, repeat",
        ["egp"] = "EGP: prune the weights feeding low-entropy layers (entropy-weighted budget) until layers reach zero entropy",
        ["nepenthe"] = "NEPENTHE: EGP generalised; always-OFF neurons are removed too",
        ["imp"] = "IMP baseline: iterative global magnitude pruning, counting the layers that reach zero entropy",
        ["layerfold"] = "Layer Folding baseline: PReLU slopes pulled to 1, most linear set to Identity",
        ["random"] = "Random baseline: remove a random activation each iteration (seeded by --seed)",
    };

    public static IEnumerable<Command> All(TextWriter output, TextWriter error) => DepthMethod.Names.Select(n => Create(n, output, error));

    /// <summary>What `compress` runs: a method under the deploy recipe, folded (macs), healed, exported and timed against the dense model.</summary>
    sealed record CompressMode(Option<string> Method);

    public static Command Compress(TextWriter output, TextWriter error)
    {
        Option<string> method = new("--method") { Description = "easier (removes activations, folds their layers together) or nepenthe (prunes whole residual branches away)", DefaultValueFactory = _ => "easier" };
        method.Validators.Add(r => { string v = r.GetValueOrDefault<string>(); if (v is not ("easier" or "nepenthe")) r.AddError($"--method '{v}': expected easier or nepenthe"); });
        return Build("compress", output, error, null, new CompressMode(method));
    }

    /// <summary>The method's command; its settings' flags come from table (MethodSettings.All unless given).</summary>
    public static Command Create(string name, TextWriter output, TextWriter error, IReadOnlyList<MethodSetting>? table = null) =>
        Build(name, output, error, table, compress: null);

    static Command Build(string name, TextWriter output, TextWriter error, IReadOnlyList<MethodSetting>? table, CompressMode? compress)
    {
        var command = new Command(name, compress is null ? Descriptions.GetValueOrDefault(name, name)
            : "From a trained network (or one to train) to a faster deployed one: the deploy recipe, fold, heal, export RUN/best.onnx, and ONNX Runtime latency against the dense model");
        if (compress is not null) command.Options.Add(compress.Method);
        var modelArgs = new ModelArgs(command);
        var dataArgs = new DataArgs(command);
        var trainArgs = new TrainArgs(command, "--pretrain-epochs", "Epochs to train the dense model first (default: preset; ignored with --checkpoint)");
        var runArgs = new RunArgs(command, outputRequired: true);
        Option<string> checkpoint = PathOptions.InputFile("--checkpoint", "Start from this trained checkpoint instead of pretraining", required: false);
        Option<double?> finetuneLr = NumberOptions.Optional<double>("--finetune-lr", "Fine-tuning learning rate (default: 0.1 x the training rate)", v => v is > 0 and <= 100, "must lie in (0,100]");
        command.Options.Add(checkpoint);
        command.Options.Add(finetuneLr);
        string[] methods = compress is null ? [name] : ["easier", "nepenthe"];
        var settings = new SettingOptions(command, (table ?? MethodSettings.All).Where(s => methods.Any(s.AppliesTo)).Select(s => (s, (string?)null)));
        string foldDefault = compress is null ? "none" : "macs";
        Option<string> fold = new("--fold") { Description = $"Final step: fold the best model with this policy (exact, macs, depth or onnxruntime), measure it, write RUN/best.onnx (default: {foldDefault})", DefaultValueFactory = _ => foldDefault };
        fold.Validators.Add(r => { string v = r.GetValueOrDefault<string>(); if (v != "none" && FoldCommand.ParsePolicy(v) is null) r.AddError($"--fold '{v}': expected none, exact, macs, depth or onnxruntime"); });
        var (healEpochs, healLr) = compress is null ? FoldCommand.HealOptions() : FoldCommand.HealOptions(Recipe.DeployHeal.Epochs, Recipe.DeployHeal.LearningRate);
        Option<string?> recipe = new("--recipe")
        {
            Description = "Take the values of a named bundle of settings for the flags not given: " + string.Join("; ", Recipe.All.Select(r => $"{r.Name}: {r.Description}")) + " (docs/METHODS.md, \"Recipes\")",
        };
        recipe.Validators.Add(r => { if (r.GetValueOrDefault<string?>() is { } v && Recipe.Named(v) is null) r.AddError($"--recipe '{v}': expected {string.Join(", ", Recipe.All.Select(x => x.Name))}"); });
        Option<bool> cheap = new("--cheap") { Description = "The same as --recipe cheap" };
        foreach (Option o in new Option[] { fold, healEpochs, healLr, recipe, cheap }) command.Options.Add(o);

        command.SetAction(parsed =>
        {
            string method = compress is null ? name : parsed.GetValue(compress.Method)!;
            if (settings.GivenOutside(parsed, method) is { } foreign) throw new UsageException($"{foreign}: {method} does not take it");
            var bundle = ChosenRecipe(parsed, recipe, cheap) ?? (compress is null ? null : Recipe.Deploy);
            var compute = runArgs.Start(parsed);
            int seed = runArgs.Seed(parsed);
            // A dense checkpoint decides the model, and so the preset behind the defaults (the fine-tune rate).
            string? densePath = parsed.GetValue(checkpoint);
            var denseMeta = densePath is null ? null : Checkpoint.ReadMeta(densePath);
            var job = JobSetup.Resolve(parsed, modelArgs, dataArgs, trainArgs, seed, denseMeta?.Model);
            var initial = new MethodOptions
            {
                Finetune = job.Train with { LearningRate = parsed.GetValue(finetuneLr) ?? job.Train.LearningRate / 10, WarmupEpochs = 0 }, Seed = seed,
            };
            var options = settings.Resolve(parsed, method, initial, bundle);
            if (settings.Given(parsed, "damage-sample") && options.DamageSample > 0 && !MethodSettings.DamageApplies(method, options.Objective))
                throw new UsageException($"--damage-sample: {method} uses it with --objective {(method == "easier" ? "entropy" : "latency")} only");
            try { options.Validate(); }
            catch (UsageException e) { throw SettingOptions.InFlags(e); }
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
            else if (denseMeta is not null) modelArgs.RequireSameAs(parsed, denseMeta, $"--checkpoint {densePath}");
            using var data = DataBundle.Load(job.Data);
            if (!resume && parsed.GetValue(checkpoint) is null) job.ModelOptionsFor(data).RequireFits(job.ModelName, data.Name, data.SampleShape, data.Classes);
            var setup = new MethodRunSetup
            {
                OutDir = outDir, Data = data, DataOptions = job.Data, Compute = compute, Resume = runArgs.Resume(parsed), Recorded = r => RunReport.Write(outDir, r),
                DenseCheckpoint = parsed.GetValue(checkpoint), CreateModel = () => job.CreateModel(data), Pretrain = job.Train, Options = options,
            };
            // config.yaml records the flags the run goes on with (a resumed run's accepted changes too).
            if (resume) MethodRun.RefuseMismatchedResume(method, setup);
            if (resume || !File.Exists(current))
                RunArgs.SaveConfiguration(parsed, outDir, [.. settings.Values(options, method), ("finetune-lr", options.Finetune.LearningRate.ToString("R", System.Globalization.CultureInfo.InvariantCulture))]);
            if (setup.DenseCheckpoint is null && !resume) progress.Line($"{method}: defaults for the training flags not given: {job.Preset.Notes}");
            var run = MethodRun.Run(DepthMethod.Create(method), setup, progress, progress.Line);
            if (runArgs.Json(parsed)) output.WriteLine(System.Text.Json.JsonSerializer.Serialize(run, Training.Checkpoint.Json));
            else RunTable.Write(output, run);
            // The deployable model: the best checkpoint (compress: the dense one when nothing was removed) folded, healed, measured on the test split.
            string? best = run.BestCheckpoint ?? (compress is null ? null : Path.Combine(outDir, MethodRun.Dense));
            if (FoldCommand.ParsePolicy(parsed.GetValue(fold)!) is { } policy && best is not null)
            {
                using var loaded = Checkpoint.Load(best, compute);
                var heal = options.Finetune with { Epochs = parsed.GetValue(healEpochs), LearningRate = parsed.GetValue(healLr) };
                // compress's own table times the deployed file against the dense model (and keeps RUN/dense.onnx).
                var deployed = DeployStep.Run(best, loaded.Model, data, new DeploySettings(policy, OnnxPath: Path.Combine(outDir, "best.onnx"), Heal: heal), compute,
                    progress, runArgs.Json(parsed) ? null : output, compress is null ? Path.Combine(outDir, MethodRun.Dense) : null);
                if (compress is not null)
                {
                    string denseOnnx = Path.Combine(outDir, "dense.onnx");
                    var column = CompressSummary.Measure([($"{method}, {run.Recipe ?? "as given"}", run, deployed)], Path.Combine(outDir, MethodRun.Dense), denseOnnx, compute)[0];
                    if (runArgs.Json(parsed)) output.WriteLine(JsonOut.Serialize(CompressSummary.Json(column, denseOnnx)));
                    else
                    {
                        output.WriteLine();
                        output.WriteLine($"compress: {run.Model} on {run.Dataset}, dense against deployed");
                        CompressSummary.Print(output, [column], denseOnnx);
                    }
                }
            }
            return CliApp.Ok;
        });
        return command;
    }

    static Recipe? ChosenRecipe(ParseResult parsed, Option<string?> recipe, Option<bool> cheap)
    {
        var named = parsed.GetValue(recipe) is { } name ? Recipe.Named(name) : null;
        if (parsed.GetValue(cheap) && named is not null && named != Recipe.Cheap)
            throw new UsageException($"--cheap: is --recipe cheap, but --recipe {named.Name} was given");
        return parsed.GetValue(cheap) ? Recipe.Cheap : named;
    }
}
