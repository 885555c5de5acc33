using System.Diagnostics;
using DepthPrune.Data;
using DepthPrune.Models;
using DepthPrune.Pruning;
using DepthPrune.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace DepthPrune.Training;

/// <summary>Hooks a caller gives the trainer.</summary>
public sealed class TrainHooks
{
    public PruningMasks? Masks { get; init; }
    public IProgress<TrainProgress>? Progress { get; init; }
    /// <summary>Called with (next epoch, next batch, optimizer) whenever a checkpoint is due;
    /// returns the checkpoint's path.</summary>
    public Func<int, int, optim.Optimizer, string>? SaveCheckpoint { get; init; }
    /// <summary>Extra loss term added each step (Layer Folding's slope regulariser).</summary>
    public Func<Tensor>? ExtraLoss { get; init; }
    /// <summary>Distillation from a teacher replaces the plain cross-entropy.</summary>
    public Distillation? Distill { get; init; }
    /// <summary>Stop before the schedule's end where its check says so (fine-tuning: recovered, or a trial given up).</summary>
    public EarlyStop? EarlyStop { get; init; }
    public string Stage { get; init; } = "train";
    /// <summary>Called at the end of each whole epoch, after its evaluation.</summary>
    public Action<EpochRecord>? EpochDone { get; init; }
}

public sealed record EpochRecord(int Epoch, double TrainLoss, double TrainTop1, EvalResult? Test, double Seconds);

/// <summary>The one training loop every method shares.</summary>
public static class Trainer
{
    public static optim.Optimizer CreateOptimizer(ZooModel model, TrainOptions o) => o.Optimizer switch
    {
        OptimizerKind.Adam => optim.Adam(model.Net.parameters(), o.LearningRate, weight_decay: o.WeightDecay),
        OptimizerKind.AdamW => optim.AdamW(model.Net.parameters(), o.LearningRate, weight_decay: o.WeightDecay),
        _ => optim.SGD(model.Net.parameters(), o.LearningRate, o.Momentum, weight_decay: o.WeightDecay, nesterov: o.Nesterov),
    };

    public static List<EpochRecord> Fit(ZooModel model, DataBundle data, TrainOptions o, Compute compute, TrainHooks hooks,
        Checkpoint.Loaded? resume = null, BatchLoader? evalLoader = null)
    {
        o.Validate();
        var loader = data.TrainLoader(o.BatchSize, o.Seed, compute);
        using var optimizer = CreateOptimizer(model, o);
        // A checkpoint records the next epoch and batch to run, with the optimizer and RNG state then.
        int startEpoch = resume?.Meta.Epoch ?? 0, startBatch = resume?.Meta.Batch ?? 0;
        resume?.RestoreOptimizer(optimizer);
        resume?.RestoreRng();
        hooks.Masks?.ApplyToWeights(model);
        var history = new List<EpochRecord>();
        var clock = Stopwatch.StartNew();
        long imagesSeen = 0;
        for (int epoch = startEpoch; epoch < o.Epochs; epoch++)
        {
            model.Net.train();
            var epochClock = Stopwatch.StartNew();
            double lossSum = 0;
            long correct = 0, seen = 0;
            int first = epoch == startEpoch ? startBatch : 0;
            EpochRecord EndOfEpoch(EvalResult? test) =>
                new(epoch + 1, seen == 0 ? double.NaN : lossSum / seen, seen == 0 ? double.NaN : 100.0 * correct / seen, test, epochClock.Elapsed.TotalSeconds);
            foreach (Batch batch in loader.Epoch(epoch, first))
            {
                if (hooks.EarlyStop?.StopsAt(epoch, batch.Index, loader.BatchesPerEpoch) == true)
                {
                    batch.Dispose();
                    hooks.SaveCheckpoint?.Invoke(epoch, batch.Index, optimizer);
                    history.Add(EndOfEpoch(null));
                    return history;
                }
                using (batch)
                using (var scope = NewDisposeScope())
                {
                    double lr = o.LearningRateAt(epoch, batch.Index, loader.BatchesPerEpoch);
                    foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
                    optimizer.zero_grad();
                    var logits = model.Net.forward(batch.Inputs);
                    var loss = hooks.Distill is { } distill
                        ? distill.Loss(logits, batch.Inputs, batch.Targets, o.LabelSmoothing)
                        : nn.functional.cross_entropy(logits, batch.Targets, label_smoothing: o.LabelSmoothing);
                    var total = hooks.ExtraLoss is null ? loss : loss.add(hooks.ExtraLoss());
                    total.backward();
                    hooks.Masks?.ApplyToGradients(model);
                    if (o.ClipGradNorm is double clip) nn.utils.clip_grad_norm_(model.Net.parameters(), clip);
                    optimizer.step();
                    hooks.Masks?.ApplyToWeights(model);

                    double batchLoss = loss.item<float>();
                    if (hooks.ExtraLoss is not null && !double.IsFinite(total.item<float>())) batchLoss = double.NaN;   // what was optimized diverged
                    if (!double.IsFinite(batchLoss))
                        throw new DivergedException($"{hooks.Stage}: loss became {batchLoss} at epoch {epoch + 1}, batch {batch.Index + 1}");
                    lossSum += batchLoss * batch.Size;
                    correct += logits.argmax(1).eq(batch.Targets).sum().item<long>();
                    seen += batch.Size;
                    imagesSeen += batch.Size;
                    double rate = imagesSeen / Math.Max(1e-9, clock.Elapsed.TotalSeconds);
                    long remaining = (long)(o.Epochs - epoch) * data.Train.Count - (long)(batch.Index + 1) * o.BatchSize;
                    hooks.Progress?.Report(new TrainProgress(hooks.Stage, epoch + 1, o.Epochs, batch.Index + 1, loader.BatchesPerEpoch,
                        lossSum / seen, 100.0 * correct / seen, rate, TimeSpan.FromSeconds(Math.Max(0, remaining) / Math.Max(1e-9, rate)), lr));
                }
                int next = batch.Index + 1;
                if (StopRequest.IsRequested && hooks.SaveCheckpoint is { } save)
                {
                    // Where an uninterrupted run would be after this batch: resuming continues from here.
                    var (e, b) = next < loader.BatchesPerEpoch ? (epoch, next) : (epoch + 1, 0);
                    throw new RunStoppedException(save(e, b, optimizer), e, b);
                }
                if (o.CheckpointEveryBatches > 0 && next % o.CheckpointEveryBatches == 0 && next < loader.BatchesPerEpoch)
                    hooks.SaveCheckpoint?.Invoke(epoch, next, optimizer);
            }
            history.Add(EndOfEpoch(evalLoader is null ? null : Evaluation.Run(model, evalLoader)));
            hooks.SaveCheckpoint?.Invoke(epoch + 1, 0, optimizer);
            hooks.EpochDone?.Invoke(history[^1]);
        }
        return history;
    }
}
