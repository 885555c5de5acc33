using DepthPrune.Models;
using DepthPrune.Runtime;
using DepthPrune.Training;
using static TorchSharp.torch;

namespace DepthPrune.Tests.Training;

public class TrainerTests
{
    sealed class SimulatedKill : Exception;

    static TrainOptions Options => new() { Epochs = 3, BatchSize = 32, LearningRate = 0.05, Seed = 11, CheckpointEveryBatches = 3 };

    static ZooModel NewModel()
    {
        Seeding.Seed(11);
        return ModelZoo.Create("lenet5", new ModelOptions(Classes: 4, InChannels: 1, Width: 0.5, InputSize: 16));
    }

    static CheckpointMeta Meta(ZooModel m) => new() { Model = m.Name, ModelOptions = m.Options };

    [Fact]
    public void Killed_and_resumed_run_ends_with_identical_weights()
    {
        using var data = TestData.Quadrants(train: 200, size: 16);
        using var dir = new TempDir();

        using var straight = NewModel();
        TrainingRun.Run(straight, data, Options, Compute.Cpu, dir["straight.ckpt"], Meta(straight), null, null);

        // Same run, killed right after the checkpoint at epoch 2, batch 3.
        using var killed = NewModel();
        string path = dir["killed.ckpt"];
        var hooks = new TrainHooks
        {
            SaveCheckpoint = (epoch, batch, optimizer) =>
            {
                Checkpoint.Save(path, killed, Meta(killed) with { Epoch = epoch, Batch = batch, Train = Options }, null, optimizer);
                if (epoch == 1 && batch == 3) throw new SimulatedKill();
                return path;
            },
        };
        Assert.Throws<SimulatedKill>(() => Trainer.Fit(killed, data, Options, Compute.Cpu, hooks));
        manual_seed(999);   // a fresh process would not share the generator state

        using var resumed = Checkpoint.Load(path, Compute.Cpu);
        Assert.Equal((1, 3), (resumed.Meta.Epoch, resumed.Meta.Batch));
        TrainingRun.Run(resumed.Model, data, Options, Compute.Cpu, path, Meta(resumed.Model), null, null, resumed);

        var a = straight.Net.state_dict();
        var b = resumed.Model.Net.state_dict();
        Assert.Equal(a.Keys, b.Keys);
        foreach (var key in a.Keys) Assert.True(a[key].equal(b[key]).all().item<bool>(), $"{key} differs after resume");
    }

    [Fact]
    public void A_stop_request_saves_where_the_run_is_and_resuming_reaches_the_same_weights()
    {
        using var data = TestData.Quadrants(train: 200, size: 16);
        using var dir = new TempDir();
        using var straight = NewModel();
        TrainingRun.Run(straight, data, Options, Compute.Cpu, dir["straight.ckpt"], Meta(straight), null, null);

        using var stopped = NewModel();
        var ctrlC = new Progress(p => { if (p.Epoch == 2 && p.Batch == 2) StopRequest.Request(); });
        try
        {
            var e = Assert.Throws<RunStoppedException>(() => TrainingRun.Run(stopped, data, Options, Compute.Cpu, dir["stopped.ckpt"], Meta(stopped), null, ctrlC));
            Assert.Equal(dir["stopped.ckpt"], e.Checkpoint);
            Assert.Contains("epoch 2, batch 3", e.Message);   // the next batch to run
        }
        finally { StopRequest.Clear(); }

        using var resumed = Checkpoint.Load(dir["stopped.ckpt"], Compute.Cpu);
        Assert.Equal((1, 2), (resumed.Meta.Epoch, resumed.Meta.Batch));
        TrainingRun.Run(resumed.Model, data, Options, Compute.Cpu, dir["stopped.ckpt"], Meta(resumed.Model), null, null, resumed);
        var a = straight.Net.state_dict();
        var b = resumed.Model.Net.state_dict();
        foreach (var key in a.Keys) Assert.True(a[key].equal(b[key]).all().item<bool>(), $"{key} differs after a stop and resume");
    }

    /// <summary>Reports synchronously (System.Progress would post to the thread pool).</summary>
    sealed class Progress(Action<TrainProgress> report) : IProgress<TrainProgress>
    {
        public void Report(TrainProgress value) => report(value);
    }

    [Fact]
    public void Training_learns_the_synthetic_task()
    {
        using var data = TestData.Quadrants(train: 256, size: 16);
        using var model = NewModel();
        var before = Evaluation.Run(model, data.EvalLoader(data.Test, 64, Compute.Cpu));
        Trainer.Fit(model, data, Options, Compute.Cpu, new TrainHooks());
        var after = Evaluation.Run(model, data.EvalLoader(data.Test, 64, Compute.Cpu));
        Assert.True(after.Top1 >= 90, $"top-1 {before.Top1} -> {after.Top1}");
        Assert.Equal(100, after.Top5);   // 4 classes: top-5 always hits
    }

    [Fact]
    public void Schedules_follow_their_definitions()
    {
        var multi = new TrainOptions { Epochs = 10, LearningRate = 0.1, Schedule = ScheduleKind.MultiStep, Milestones = [3, 6], Gamma = 0.1 };
        Assert.Equal(0.1, multi.LearningRateAt(2, 5, 10), 12);
        Assert.Equal(0.01, multi.LearningRateAt(3, 0, 10), 12);
        Assert.Equal(0.001, multi.LearningRateAt(9, 9, 10), 12);
        var cosine = new TrainOptions { Epochs = 4, LearningRate = 1, Schedule = ScheduleKind.Cosine };
        Assert.Equal(1, cosine.LearningRateAt(0, 0, 10), 12);
        Assert.Equal(0.5, cosine.LearningRateAt(2, 0, 10), 12);
        var warm = new TrainOptions { Epochs = 4, LearningRate = 1, Schedule = ScheduleKind.Constant, WarmupEpochs = 2 };
        Assert.Equal(0.5, warm.LearningRateAt(0, 9, 10), 12);   // (0.9 + 0.1) / 2
        var restarts = new TrainOptions { Epochs = 2, LearningRate = 1, Schedule = ScheduleKind.Restarts, RestartEvery = 0.4 };
        // 0.4 x 10 = 4 batches a cycle: 1, (1 + cos(pi/4))/2, 1/2, (1 - cos(pi/4))/2, then the peak again, across the epoch's end.
        double[] expected = [1, (1 + Math.Sqrt(0.5)) / 2, 0.5, (1 - Math.Sqrt(0.5)) / 2, 1, (1 + Math.Sqrt(0.5)) / 2, 0.5, (1 - Math.Sqrt(0.5)) / 2, 1, (1 + Math.Sqrt(0.5)) / 2, 0.5, (1 - Math.Sqrt(0.5)) / 2];
        for (int position = 0; position < expected.Length; position++)
            Assert.Equal(expected[position], restarts.LearningRateAt(position / 10, position % 10, 10), 12);
    }

    [Fact]
    public void Invalid_training_options_name_the_flag()
    {
        Assert.Contains("--lr", Assert.Throws<UsageException>(() => (Options with { LearningRate = -1 }).Validate()).Message);
        Assert.Contains("--momentum", Assert.Throws<UsageException>(() => (Options with { Momentum = 1.5 }).Validate()).Message);
        Assert.Contains("--restart-every", Assert.Throws<UsageException>(() => (Options with { RestartEvery = 0 }).Validate()).Message);
    }

    [Fact]
    public void Corrupt_or_missing_checkpoints_are_reported_by_path()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["bad.ckpt"], "not a zip");
        var e = Assert.Throws<DataFormatException>(() => Checkpoint.Load(dir["bad.ckpt"], Compute.Cpu));
        Assert.Contains("bad.ckpt", e.Message);
        Assert.Contains("--checkpoint", Assert.Throws<UsageException>(() => Checkpoint.Load(dir["none.ckpt"], Compute.Cpu)).Message);
    }

    [Fact]
    public void Checkpoint_round_trip_keeps_weights_slot_edits_and_masks()
    {
        using var dir = new TempDir();
        using var model = NewModel();
        model.Slots["relu3"].SetIdentity();
        model.Slots["relu2"].SetChannelMask(Enumerable.Range(0, 8).Select(i => i % 2 == 0 ? 1f : 0f).ToArray());
        using var masks = new DepthPrune.Pruning.PruningMasks();
        var layer = model.Structure.WeightLayers.First(w => w.Module == "fc1");
        var mask = masks.Ensure(model, layer);
        mask[0].fill_(false);
        masks.ApplyToWeights(model);
        Checkpoint.Save(dir["m.ckpt"], model, Meta(model), masks);

        using var loaded = Checkpoint.Load(dir["m.ckpt"], Compute.Cpu);
        Assert.Equal(SlotMode.Identity, loaded.Model.Slots["relu3"].Mode);
        Assert.Equal(SlotMode.ChannelMask, loaded.Model.Slots["relu2"].Mode);
        Assert.Equal(masks.Remaining("fc1"), loaded.Masks!.Remaining("fc1"));
        using var x = randn(3, 1, 16, 16);
        model.Net.eval(); loaded.Model.Net.eval();
        Assert.True(model.Net.forward(x).equal(loaded.Model.Net.forward(x)).all().item<bool>());
    }
}
