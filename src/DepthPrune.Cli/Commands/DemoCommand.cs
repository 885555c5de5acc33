using System.CommandLine;
using DepthPrune.Data;
using DepthPrune.Deployment;
using DepthPrune.Folding;
using DepthPrune.Methods;
using DepthPrune.Models;
using DepthPrune.Runtime;
using DepthPrune.Training;

namespace DepthPrune.Cli.Commands;

/// <summary>The embedded default job: a narrow ResNet-18 trained on Fashion-MNIST, then EASIER
/// and NEPENTHE on it, ending in one comparison table.</summary>
public static class DemoCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var command = new Command("demo", "Train a narrow ResNet-18 on Fashion-MNIST, run EASIER and NEPENTHE on it, compare, fold EASIER's best and export it to ONNX");
        Option<string> outDir = new("--out") { Description = "Run directory", DefaultValueFactory = _ => "runs/demo" };
        Option<int> subset = NumberOptions.WithDefault("--train-subset", "Training images used", 10000, v => v > 0, "must be positive");
        Option<int> epochs = NumberOptions.WithDefault("--epochs", "Dense training epochs", 4, v => v > 0, "must be positive");
        Option<int> iterations = NumberOptions.WithDefault("--max-iterations", "Iterations per method at most", 8, v => v > 0, "must be positive");
        Option<int> seed = NumberOptions.WithDefault("--seed", "Seed", 0, v => v >= 0, "must be >= 0");
        Option<string?> data = PathOptions.InputFolder("--data", "Fashion-MNIST folder (default: the Debian package's)");
        foreach (Option o in new Option[] { outDir, subset, epochs, iterations }) command.Options.Add(o);
        // 1,000 validation images bound a paired difference only to about +-1 point at 95%: the demo judges on the point estimate unless told.
        var settings = new SettingOptions(command, [(SettingOptions.Named("tolerance"), null), (SettingOptions.Named("tolerance-confidence"), "0.5")]);
        foreach (Option o in new Option[] { seed, data, ConfigFile.Option() }) command.Options.Add(o);
        command.SetAction(parsed =>
        {
            string dir = parsed.GetValue(outDir)!;
            if (Directory.Exists(dir) && Directory.EnumerateFileSystemEntries(dir).Any())
                throw new UsageException($"--out {dir}: not empty; remove it or pass another folder");
            RunArgs.SaveConfiguration(parsed, dir);
            int s = parsed.GetValue(seed);
            var judged = settings.Resolve(parsed, "demo", MethodSettings.Defaults);
            Seeding.Seed(s);
            var progress = new ConsoleProgress(error);
            var dataOptions = new DataOptions("fashion-mnist", parsed.GetValue(data), parsed.GetValue(subset), Seed: s);
            using var bundle = DataBundle.Load(dataOptions);
            var train = new TrainOptions { Epochs = parsed.GetValue(epochs), BatchSize = 128, LearningRate = 0.05, Schedule = ScheduleKind.Cosine, WeightDecay = 5e-4, Seed = s };
            var modelOptions = new ModelOptions(bundle.Classes, (int)bundle.SampleShape[0], 0.125, (int)bundle.SampleShape[1]);
            progress.Line($"demo: resnet18-cifar (width 0.125) on Fashion-MNIST, {bundle.Train.Count} training images, {train.Epochs} epochs, then EASIER and NEPENTHE (tolerance {judged.Tolerance} points, at most {parsed.GetValue(iterations)} iterations of 2 fine-tuning epochs each)");

            string dense = Path.Combine(dir, "dense");
            using (var model = ModelZoo.Create("resnet18-cifar", modelOptions))
            {
                var meta = new CheckpointMeta { Model = model.Name, ModelOptions = model.Options, Data = dataOptions, Train = train };
                TrainingRun.Run(model, bundle, train, Compute.Cpu, Path.Combine(dense, TrainCommand.LastCheckpoint), meta, null, progress, log: progress.Line);
                Checkpoint.Save(Path.Combine(dense, TrainCommand.ModelCheckpoint), model, meta with { Epoch = train.Epochs, Complete = true });
            }
            var runs = new List<RunRecord>();
            foreach (string method in new[] { "easier", "nepenthe" })
            {
                var setup = new MethodRunSetup
                {
                    OutDir = Path.Combine(dir, method), Data = bundle, DataOptions = dataOptions, Compute = Compute.Cpu, Recorded = r => Reporting.RunReport.Write(Path.Combine(dir, method), r),
                    DenseCheckpoint = Path.Combine(dense, TrainCommand.ModelCheckpoint),
                    Options = new MethodOptions
                    {
                        Tolerance = judged.Tolerance, ToleranceConfidence = judged.ToleranceConfidence, Seed = s, PruneRatio = 0.5, MaxIterations = parsed.GetValue(iterations),
                        Finetune = train with { Epochs = 2, LearningRate = 0.02 },
                    },
                };
                runs.Add(MethodRun.Run(DepthMethod.Create(method), setup, progress, progress.Line));
            }
            output.WriteLine();
            output.WriteLine($"{"method",-10} {"removed",9} {"top-1",7} {"dense",7} {"sparsity",9} {"depth",7}  checkpoint");
            foreach (var run in runs)
            {
                var best = run.Iterations.FirstOrDefault(i => i.Iteration == run.BestIteration) ?? run.Dense!;
                output.WriteLine($"{run.Method,-10} {best.Removed,4}/{best.Total,-4} {best.Top1,7:F2} {run.DenseTop1,7:F2} {best.Sparsity,9:P1} {run.Dense!.LinearDepth,3}->{best.LinearDepth,-3}  {run.BestCheckpoint ?? "(dense)"}");
            }
            output.WriteLine($"run records: {Path.Combine(dir, "easier", MethodRun.Record)}, {Path.Combine(dir, "nepenthe", MethodRun.Record)}");
            if (runs[0].BestCheckpoint is { } easierBest)
            {
                // The shallower model for real: EASIER's best, folded and exported.
                progress.Line($"folding {easierBest} (every linear chain) and exporting it to ONNX");
                using var loaded = Checkpoint.Load(easierBest, Compute.Cpu);
                output.WriteLine();
                output.WriteLine("EASIER's best, folded (./depthprune fold --policy depth):");
                DeployStep.Run(easierBest, loaded.Model, bundle, new DeploySettings(FoldPolicy.Depth, LatencyRepeats: 10, OnnxPath: Path.Combine(dir, "easier-folded.onnx")),
                    Compute.Cpu, null, output);
            }
            output.WriteLine();
            output.WriteLine($"report: {Reporting.RunReport.Compare([Path.Combine(dir, "easier"), Path.Combine(dir, "nepenthe")], dir)} " +
                             $"(each run's own: {Path.Combine(dir, "easier", Reporting.RunReport.File)}, {Path.Combine(dir, "nepenthe", Reporting.RunReport.File)})");
            return CliApp.Ok;
        });
        return command;
    }
}
