using System.CommandLine;
using DepthPrune.Data;
using DepthPrune.Deployment;
using DepthPrune.Folding;
using DepthPrune.Methods;
using DepthPrune.Models;
using DepthPrune.Runtime;
using DepthPrune.Training;

namespace DepthPrune.Cli.Commands;

/// <summary>The embedded default job: a narrow ResNet-18 trained on Fashion-MNIST, then EASIER as
/// published and NEPENTHE under the deploy recipe, each folded, exported and timed against the dense
/// model in ONNX Runtime, ending in one table.</summary>
public static class DemoCommand
{
    /// <summary>zeta of the deploy run: the budget prunes a tenth of the remaining weights per iteration besides the branch it prunes away.</summary>
    const double DeployPruneRatio = 0.1;

    public static Command Create(TextWriter output, TextWriter error)
    {
        var command = new Command("demo", "Train a narrow ResNet-18 on Fashion-MNIST; run EASIER as published and NEPENTHE under the deploy recipe; fold, export and time both against the dense model");
        Option<string> outDir = new("--out") { Description = "Run directory", DefaultValueFactory = _ => "runs/demo" };
        Option<int> subset = NumberOptions.WithDefault("--train-subset", "Training images used", 10000, v => v > 0, "must be positive");
        Option<int> epochs = NumberOptions.WithDefault("--epochs", "Dense training epochs", 4, v => v > 0, "must be positive");
        Option<int> iterations = NumberOptions.WithDefault("--max-iterations", "Iterations per method at most", 4, v => v > 0, "must be positive");
        Option<int> seed = NumberOptions.WithDefault("--seed", "Seed", 0, v => v >= 0, "must be >= 0");
        Option<string?> data = PathOptions.InputFolder("--data", "Fashion-MNIST folder (default: the Debian package's)");
        foreach (Option o in new Option[] { outDir, subset, epochs, iterations }) command.Options.Add(o);
        // 1,000 validation images bound a paired difference only to about +-1 point at 95%: the demo judges on the point estimate unless told.
        var settings = new SettingOptions(command, [(MethodSettings.Named("tolerance"), null), (MethodSettings.Named("tolerance-confidence"), "0.5")]);
        foreach (Option o in new Option[] { seed, data, ConfigFile.Option() }) command.Options.Add(o);
        command.SetAction(parsed =>
        {
            string dir = parsed.GetValue(outDir)!;
            if (Directory.Exists(dir) && Directory.EnumerateFileSystemEntries(dir).Any())
                throw new UsageException($"--out {dir}: not empty; remove it or pass another folder");
            RunArgs.SaveConfiguration(parsed, dir);
            int s = parsed.GetValue(seed);
            var judged = settings.Resolve(parsed, "demo", MethodSettings.Defaults);
            bool Given(string name) => settings.Given(parsed, name);
            Seeding.Seed(s);
            var progress = new ConsoleProgress(error);
            // A tenth held out: the methods stop on it, and the deploy recipe's fine-tunes end once it is back within the tolerance.
            var dataOptions = new DataOptions("fashion-mnist", parsed.GetValue(data), parsed.GetValue(subset), ValidationFraction: 0.1, Seed: s);
            using var bundle = DataBundle.Load(dataOptions);
            var train = new TrainOptions { Epochs = parsed.GetValue(epochs), BatchSize = 128, LearningRate = 0.05, Schedule = ScheduleKind.Cosine, WeightDecay = 5e-4, Seed = s };
            var modelOptions = new ModelOptions(bundle.Classes, (int)bundle.SampleShape[0], 0.125, (int)bundle.SampleShape[1]);
            progress.Line($"demo: resnet18-cifar (width 0.125) on Fashion-MNIST, {bundle.Train.Count} training images, {train.Epochs} epochs, then EASIER as published and NEPENTHE under the deploy recipe (tolerance {judged.Tolerance} points, at most {parsed.GetValue(iterations)} iterations of at most 2 fine-tuning epochs each)");

            string dense = Path.Combine(dir, "dense");
            using (var model = ModelZoo.Create("resnet18-cifar", modelOptions))
            {
                var meta = new CheckpointMeta { Model = model.Name, ModelOptions = model.Options, Data = dataOptions, Train = train };
                TrainingRun.Run(model, bundle, train, Compute.Cpu, Path.Combine(dense, TrainCommand.LastCheckpoint), meta, null, progress, log: progress.Line);
                Checkpoint.Save(Path.Combine(dense, TrainCommand.ModelCheckpoint), model, meta with { Epoch = train.Epochs, Complete = true });
            }
            // Left, EASIER as published; right, the deploy recipe: whole residual branches pruned away where folding saves the most.
            var columns = new List<(string Label, RunRecord Run, DeploymentReport Deployed)>();
            // Within about 6 minutes on 2 cores: the published side fine-tunes 1 epoch an iteration; the deploy side
            // measures the damage of each candidate branch on 2,048 images (its recipe says 4,096).
            var sides = new[]
            {
                ("easier", "EASIER, published", Recipe.Published.Apply("easier", judged with { PruneRatio = 0.5, Finetune = train with { Epochs = 1, LearningRate = 0.02 } }, Given)),
                ("nepenthe", "NEPENTHE, deploy recipe", Recipe.Deploy.Apply("nepenthe", judged with { PruneRatio = DeployPruneRatio, Finetune = train with { Epochs = 2, LearningRate = 0.02 } }, Given)
                    with { DamageSample = 2048 }),
            };
            foreach (var (method, label, chosen) in sides)
            {
                string runDir = Path.Combine(dir, method);
                var options = chosen with { Seed = s, MaxIterations = parsed.GetValue(iterations) };
                var setup = new MethodRunSetup
                {
                    OutDir = runDir, Data = bundle, DataOptions = dataOptions, Compute = Compute.Cpu, Recorded = r => Reporting.RunReport.Write(runDir, r),
                    DenseCheckpoint = Path.Combine(dense, TrainCommand.ModelCheckpoint), Options = options,
                };
                var run = MethodRun.Run(DepthMethod.Create(method), setup, progress, progress.Line);
                string best = run.BestCheckpoint ?? Path.Combine(runDir, MethodRun.Dense);
                // The deploy side heals as its recipe says (Recipe.DeployHeal); a few seconds an epoch here.
                var heal = method == "nepenthe" ? options.Finetune with { Epochs = Recipe.DeployHeal.Epochs, LearningRate = Recipe.DeployHeal.LearningRate }
                                                : options.Finetune with { Epochs = 1, LearningRate = Recipe.GentleHealRate };
                progress.Line($"{label}: folding {best} (policy macs), healing it {heal.Epochs} epoch(s) at lr {heal.LearningRate} and exporting it to ONNX");
                using var loaded = Checkpoint.Load(best, Compute.Cpu);
                columns.Add((label, run, DeployStep.Run(best, loaded.Model, bundle,
                    new DeploySettings(FoldPolicy.Macs, OnnxPath: Path.Combine(dir, $"{method}.onnx"), Heal: heal), Compute.Cpu, progress, null)));
            }
            string denseOnnx = Path.Combine(dir, "dense.onnx");
            CompressSummary.Print(output, CompressSummary.Measure(columns, Path.Combine(dir, "easier", MethodRun.Dense), denseOnnx, Compute.Cpu), denseOnnx);
            output.WriteLine();
            output.WriteLine($"report: {Reporting.RunReport.Compare([Path.Combine(dir, "easier"), Path.Combine(dir, "nepenthe")], dir)} " +
                             $"(each run's own: {Path.Combine(dir, "easier", Reporting.RunReport.File)}, {Path.Combine(dir, "nepenthe", Reporting.RunReport.File)})");
            return CliApp.Ok;
        });
        return command;
    }
}
