using System.CommandLine;
using DepthPrune.Data;
using DepthPrune.Models;
using DepthPrune.Runtime;
using DepthPrune.Training;
using TorchSharp;

namespace DepthPrune.Cli.Commands;

public static class TrainCommand
{
    public const string LastCheckpoint = "last.ckpt", ModelCheckpoint = "model.ckpt";

    public static Command Create(TextWriter output, TextWriter error)
    {
        var command = new Command("train", "Train a model on a data set; checkpoints are resumable");
        var modelArgs = new ModelArgs(command);
        var dataArgs = new DataArgs(command);
        var trainArgs = new TrainArgs(command);
        var runArgs = new RunArgs(command, outputRequired: true);
        Option<string> init = PathOptions.InputFile("--init", "Start from this checkpoint's weights (e.g. a pretrained network from `weights import`) instead of random ones; the model is the checkpoint's", required: false);
        command.Options.Add(init);
        command.SetAction(parsed =>
        {
            var compute = runArgs.Start(parsed);
            string dir = runArgs.Out(parsed)!;
            string last = Path.Combine(dir, LastCheckpoint);
            var progress = new ConsoleProgress(error, runArgs.Quiet(parsed));
            Checkpoint.Loaded? resumed = null;
            if (runArgs.Resume(parsed))
            {
                AtomicFile.RemoveUnfinished(dir);
                if (!File.Exists(last)) throw new UsageException($"--resume: no checkpoint {last} to resume from");
                resumed = Checkpoint.Load(last, compute);
                modelArgs.RequireSameAs(parsed, resumed.Meta, $"--resume: {last}");
                if (resumed.Meta.Train is { } schedule) trainArgs.RequireSameAs(parsed, schedule, $"--resume: {last}");
            }
            else if (File.Exists(last))
                throw new UsageException($"--out {dir}: already holds a run ({last}); pass --resume to continue it or choose another folder");
            else RunArgs.SaveConfiguration(parsed, dir);
            // A resumed run's weights are its own; --init only seeds a new one.
            string? initPath = resumed is null ? parsed.GetValue(init) : null;
            var initMeta = initPath is null ? null : Checkpoint.ReadMeta(initPath);
            if (initMeta is not null) modelArgs.RequireSameAs(parsed, initMeta, $"--init {initPath}");

            var job = JobSetup.Resolve(parsed, modelArgs, dataArgs, trainArgs, runArgs.Seed(parsed), (resumed?.Meta ?? initMeta)?.Model);
            resumed?.Meta.Data?.RequireSameCutFor(job.Data, last);
            var dataOptions = resumed?.Meta.Data ?? job.Data;
            using var data = DataBundle.Load(dataOptions);
            var options = resumed?.Meta.Train ?? job.Train;
            var start = initPath is null ? null : Checkpoint.Load(initPath, compute);
            if (start is not null)
            {
                // Training would regrow pruned weights: a pruned network goes on in its method run (--final-epochs).
                // Masks that keep everything (a run's dense.ckpt) prune nothing, and go.
                if (start.Masks is { PrunesNothing: false }) { start.Dispose(); throw new UsageException($"--init {initPath}: holds pruning masks (a pruning run's model); start from a dense or imported checkpoint"); }
                try { start.Meta.ModelOptions.RequireFits(start.Meta.Model, data.Name, data.SampleShape, data.Classes); }
                catch { start.Dispose(); throw; }
            }
            else if (resumed is null) job.ModelOptionsFor(data).RequireFits(job.ModelName, data.Name, data.SampleShape, data.Classes);
            ZooModel model = resumed?.Model ?? start?.Model ?? job.CreateModel(data);
            var preset = job.Preset;
            try
            {
                RunFolder.RequireRoom(dir, ModelCost.RunBytes(model, 3));   // last.ckpt, its temp copy, model.ckpt
                model.Net.to(compute.Device);
                progress.Line(resumed is null ? $"defaults for the flags not given: {preset.Notes}" : $"resuming {last} at epoch {resumed.Meta.Epoch + 1}, batch {resumed.Meta.Batch + 1}");
                progress.Line($"model {model.Name} (width {model.Options.Width}), data {data.Name}: {data.Train.Count} train / {data.Test.Count} test, {options.Describe()}");
                var meta = new CheckpointMeta { Model = model.Name, ModelOptions = model.Options, Data = dataOptions, Train = options, Stage = "train" };
                var testLoader = data.EvalLoader(data.Test, 256, compute);
                var history = TrainingRun.Run(model, data, options, compute, last, meta, null, progress, resumed, evalLoader: testLoader, log: progress.Line);
                // The last epoch already evaluated the test set; only a run with nothing left to train needs it here.
                var test = history.LastOrDefault()?.Test ?? Evaluation.Run(model, testLoader);
                var finalMeta = meta with { Epoch = options.Epochs, Complete = true, Metrics = new() { ["test_top1"] = test.Top1, ["test_top5"] = test.Top5, ["test_loss"] = test.Loss } };
                Checkpoint.Save(Path.Combine(dir, ModelCheckpoint), model, finalMeta);
                var report = new
                {
                    model = model.Name, dataset = data.Name, epochs = options.Epochs, test_top1 = test.Top1, test_top5 = test.Top5, test_loss = test.Loss,
                    checkpoint = Path.Combine(dir, ModelCheckpoint), preset = preset.Notes,
                    history = history.Select(h => new { epoch = h.Epoch, train_loss = h.TrainLoss, train_top1 = h.TrainTop1, test_top1 = h.Test?.Top1, seconds = h.Seconds }),
                };
                AtomicFile.WriteText(Path.Combine(dir, "train.json"), JsonOut.Serialize(report));
                if (runArgs.Json(parsed)) output.WriteLine(JsonOut.Serialize(report));
                else output.WriteLine($"test top-1 {test.Top1:F2}%  top-5 {test.Top5:F2}%  loss {test.Loss:F4}  -> {report.checkpoint}");
                return CliApp.Ok;
            }
            finally { model.Dispose(); }
        });
        return command;
    }
}
