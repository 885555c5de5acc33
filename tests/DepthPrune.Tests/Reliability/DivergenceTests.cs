using DepthPrune.Models;
using DepthPrune.Runtime;
using DepthPrune.Tests.Training;
using DepthPrune.Training;
using static TorchSharp.torch;

namespace DepthPrune.Tests.Reliability;

/// <summary>A diverging run rolls back to its starting weights and retries once at half the
/// learning rate; a second divergence stops it with a clear message; no checkpoint ever holds
/// non-finite weights.</summary>
public class DivergenceTests
{
    static readonly TrainOptions Options = new() { Epochs = 2, BatchSize = 32, LearningRate = 0.05, Seed = 1, CheckpointEveryBatches = 1 };

    static ZooModel NewModel()
    {
        Seeding.Seed(1);
        return ModelZoo.Create("mlp", new ModelOptions(Classes: 4, InChannels: 1, Width: 0.0625, InputSize: 8));
    }

    static CheckpointMeta Meta(ZooModel m) => new() { Model = m.Name, ModelOptions = m.Options, Stage = "train" };

    /// <summary>An extra loss on the model's weights that is NaN (gradients too) where `poisoned` says, else zero.</summary>
    static Func<Tensor> Poison(ZooModel model, Func<int, bool> poisoned)
    {
        int calls = 0;
        return () => model.Net.parameters().First().sum() * (poisoned(++calls) ? float.NaN : 0f);
    }

    [Fact]
    public void A_run_that_diverges_once_is_rolled_back_and_finishes_at_half_the_learning_rate()
    {
        using var data = TestData.Quadrants(train: 128, size: 8);
        using var dir = new TempDir();
        using var model = NewModel();
        var said = new List<string>();
        // The first attempt meets NaN at its third batch (after two checkpoints of finite weights).
        TrainingRun.Run(model, data, Options, Compute.Cpu, dir["m.ckpt"], Meta(model), null, null, extraLoss: Poison(model, call => call == 3), log: said.Add);
        Assert.Contains(said, s => s.Contains("loss became NaN at epoch 1, batch 3") && s.Contains("retrying once at lr 0.025"));
        using var saved = Checkpoint.Load(dir["m.ckpt"], Compute.Cpu);
        Assert.True(saved.Meta.Complete);
        Assert.Equal(0.025, saved.Meta.Train!.LearningRate, 12);
        foreach (var p in saved.Model.Net.parameters()) Assert.True(p.isfinite().all().item<bool>());
    }

    [Fact]
    public void A_run_that_diverges_twice_stops_with_its_starting_weights_and_only_finite_checkpoints()
    {
        using var data = TestData.Quadrants(train: 128, size: 8);
        using var dir = new TempDir();
        using var model = NewModel();
        var before = model.Net.state_dict().ToDictionary(p => p.Key, p => p.Value.clone());
        var e = Assert.Throws<DivergedException>(() =>
            TrainingRun.Run(model, data, Options, Compute.Cpu, dir["m.ckpt"], Meta(model), null, null, extraLoss: Poison(model, _ => true)));
        Assert.Contains("again after retrying at half the learning rate (0.025)", e.Message);
        foreach (var (name, t) in model.Net.state_dict()) Assert.True(t.equal(before[name]).all().item<bool>(), $"{name} not rolled back");
        Assert.False(File.Exists(dir["m.ckpt"]));   // it diverged at the first batch: nothing finite to save, so nothing saved
        Assert.Contains("it diverged before its first checkpoint, so none was written", e.Message);   // and the message does not point at it
    }
}
