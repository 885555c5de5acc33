using DepthPrune.Data;
using DepthPrune.Models;
using DepthPrune.Pruning;
using DepthPrune.Runtime;

namespace DepthPrune.Training;

/// <summary>Trains (or fine-tunes) a model to the end of its schedule, keeping one resumable
/// checkpoint file up to date; given that file's loaded state it continues where it stopped.
/// A run that diverges (non-finite loss or weights) is rolled back to the weights it started from
/// and retried once at half the learning rate; a second divergence stops it. Non-finite weights
/// are never written to a checkpoint.</summary>
public static class TrainingRun
{
    public static List<EpochRecord> Run(ZooModel model, DataBundle data, TrainOptions options, Compute compute,
        string checkpointPath, CheckpointMeta meta, PruningMasks? masks, IProgress<TrainProgress>? progress,
        Checkpoint.Loaded? resumeFrom = null, Func<TorchSharp.torch.Tensor>? extraLoss = null, BatchLoader? evalLoader = null,
        Action<string>? log = null, Distillation? distill = null, EarlyStop? earlyStop = null)
    {
        if (resumeFrom is null && options.Epochs == 0)
            Checkpoint.Save(checkpointPath, model, meta with { Train = options, Complete = true }, masks);
        var start = model.Net.state_dict().ToDictionary(p => p.Key, p => p.Value.detach().clone());
        try
        {
            try { return Attempt(options); }
            catch (DivergedException first)
            {
                using (TorchSharp.torch.no_grad())
                    foreach (var (name, tensor) in model.Net.state_dict()) tensor.copy_(start[name]);
                var retry = options with { LearningRate = options.LearningRate / 2 };
                log?.Invoke($"{first.Message}: rolled back to the stage's starting weights, retrying once at lr {retry.LearningRate:G3}");
                try { return Attempt(retry); }
                catch (DivergedException second)
                {
                    using (TorchSharp.torch.no_grad())
                        foreach (var (name, tensor) in model.Net.state_dict()) tensor.copy_(start[name]);
                    throw new DivergedException($"{second.Message}, again after retrying at half the learning rate ({retry.LearningRate:G3}); " +
                        $"stopped with the weights rolled back to the stage's start; " +
                        (File.Exists(checkpointPath) ? $"{checkpointPath} holds the last finite state" : "it diverged before its first checkpoint, so none was written") + " (lower --lr)");
                }
            }
        }
        finally
        {
            foreach (var tensor in start.Values) tensor.Dispose();
        }

        List<EpochRecord> Attempt(TrainOptions o) => Trainer.Fit(model, data, o, compute, new TrainHooks
        {
            Masks = masks, Progress = progress, Stage = meta.Stage, ExtraLoss = extraLoss, Distill = distill, EarlyStop = earlyStop,
            // A long run shows where it stands once an epoch, whether or not progress lines are shown.
            EpochDone = log is null ? null : r => log($"{meta.Stage} epoch {r.Epoch}/{o.Epochs} done: loss {r.TrainLoss:F4}, train top-1 {r.TrainTop1:F2}%" +
                (r.Test is { } t ? $", test top-1 {t.Top1:F2}%" : "") + $", {r.Seconds:F0} s"),
            SaveCheckpoint = (epoch, batch, optimizer) =>
            {
                RequireFiniteWeights(model, meta.Stage, epoch, batch);
                Checkpoint.Save(checkpointPath, model, meta with { Epoch = epoch, Batch = batch, Train = o, Complete = epoch >= o.Epochs }, masks, optimizer);
                return checkpointPath;
            },
        }, resumeFrom, evalLoader);
    }

    static void RequireFiniteWeights(ZooModel model, string stage, int epoch, int batch)
    {
        foreach (var (name, tensor) in model.Net.state_dict())
        {
            if (!tensor.is_floating_point()) continue;
            using var finite = tensor.isfinite().all();
            if (!finite.item<bool>()) throw new DivergedException($"{stage}: {name} holds non-finite values before epoch {epoch + 1}, batch {batch + 1}");
        }
    }
}
