using DepthPrune.Data;
using DepthPrune.Models;
using DepthPrune.Pruning;
using DepthPrune.Runtime;

namespace DepthPrune.Training;

/// <summary>Trains (or fine-tunes) a model to the end of its schedule, keeping one resumable
/// checkpoint file up to date; given that file's loaded state it continues where it stopped.</summary>
public static class TrainingRun
{
    public static List<EpochRecord> Run(ZooModel model, DataBundle data, TrainOptions options, Compute compute,
        string checkpointPath, CheckpointMeta meta, PruningMasks? masks, IProgress<TrainProgress>? progress,
        Checkpoint.Loaded? resumeFrom = null, Func<TorchSharp.torch.Tensor>? extraLoss = null, BatchLoader? evalLoader = null)
    {
        var hooks = new TrainHooks
        {
            Masks = masks, Progress = progress, Stage = meta.Stage, ExtraLoss = extraLoss,
            SaveCheckpoint = (epoch, batch, optimizer) =>
            {
                Checkpoint.Save(checkpointPath, model, meta with { Epoch = epoch, Batch = batch, Train = options, Complete = epoch >= options.Epochs }, masks, optimizer);
                return checkpointPath;
            },
        };
        if (resumeFrom is null && options.Epochs == 0)
            Checkpoint.Save(checkpointPath, model, meta with { Train = options, Complete = true }, masks);
        return Trainer.Fit(model, data, options, compute, hooks, resumeFrom, evalLoader);
    }
}
