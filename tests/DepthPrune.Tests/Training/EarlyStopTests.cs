using DepthPrune.Models;
using DepthPrune.Runtime;
using DepthPrune.Training;

namespace DepthPrune.Tests.Training;

public class EarlyStopTests
{
    static TrainOptions Options => new() { Epochs = 3, BatchSize = 32, LearningRate = 0.05, Seed = 5 };

    static ZooModel NewModel()
    {
        Seeding.Seed(5);
        return ModelZoo.Create("mlp", new ModelOptions(Classes: 4, InChannels: 1, Width: 0.0625, InputSize: 8));
    }

    static CheckpointMeta Meta(ZooModel m) => new() { Model = m.Name, ModelOptions = m.Options, Stage = "finetune" };

    [Fact]
    public void Checks_fall_every_n_batches_across_epochs_and_the_stage_stops_at_the_first_recovery()
    {
        using var data = TestData.Quadrants(train: 160, size: 8);   // 5 batches per epoch
        using var dir = new TempDir();
        using var model = NewModel();
        var asked = new List<int>();
        var stop = new EarlyStop { EveryBatches = 3, Check = position => { asked.Add((int)position); return asked.Count == 3 ? "recovered" : null; } };
        TrainingRun.Run(model, data, Options, Compute.Cpu, dir["ft.ckpt"], Meta(model), null, null, earlyStop: stop);
        // Positions 3, 6 (epoch 1, batch 1), 9 (epoch 1, batch 4): stopped at the third, before training it.
        Assert.Equal([3, 6, 9], asked);
        Assert.Equal((1, 4), stop.StoppedAt);
        Assert.Equal("recovered", stop.Reason);
        Assert.Equal(160L + 4 * 32, stop.ImagesTrained(Options, 160));
        using var saved = Checkpoint.Load(dir["ft.ckpt"], Compute.Cpu);
        Assert.Equal((1, 4), (saved.Meta.Epoch, saved.Meta.Batch));
    }

    [Fact]
    public void A_stage_that_never_recovers_runs_its_schedule()
    {
        using var data = TestData.Quadrants(train: 160, size: 8);
        using var dir = new TempDir();
        using var model = NewModel();
        int checks = 0;
        var stop = new EarlyStop { EveryBatches = 2, Check = _ => { checks++; return null; } };
        TrainingRun.Run(model, data, Options, Compute.Cpu, dir["ft.ckpt"], Meta(model), null, null, earlyStop: stop);
        Assert.Null(stop.StoppedAt);
        Assert.Equal(7, checks);   // positions 2, 4, ..., 14 of 15
        Assert.Equal(3 * 160L, stop.ImagesTrained(Options, 160));
    }

    [Fact]
    public void Resuming_from_the_stop_asks_again_and_stops_at_the_same_place_with_the_same_weights()
    {
        using var data = TestData.Quadrants(train: 160, size: 8);
        using var dir = new TempDir();
        using var model = NewModel();
        var stop = new EarlyStop { EveryBatches = 4, Check = _ => "recovered" };
        TrainingRun.Run(model, data, Options, Compute.Cpu, dir["ft.ckpt"], Meta(model), null, null, earlyStop: stop);
        Assert.Equal((0, 4), stop.StoppedAt);
        using var resumed = Checkpoint.Load(dir["ft.ckpt"], Compute.Cpu);
        var again = new EarlyStop { EveryBatches = 4, Check = _ => "recovered" };
        TrainingRun.Run(resumed.Model, data, Options, Compute.Cpu, dir["ft.ckpt"], Meta(resumed.Model), null, null, resumed, earlyStop: again);
        Assert.Equal((0, 4), again.StoppedAt);
        var a = model.Net.state_dict();
        var b = resumed.Model.Net.state_dict();
        foreach (var key in a.Keys) Assert.True(a[key].equal(b[key]).all().item<bool>(), $"{key} differs");
    }
}
