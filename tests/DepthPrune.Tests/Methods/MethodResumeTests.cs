using DepthPrune.Data;
using DepthPrune.Methods;
using DepthPrune.Models;
using DepthPrune.Runtime;
using DepthPrune.Tests.Training;
using DepthPrune.Training;

namespace DepthPrune.Tests.Methods;

/// <summary>A method run killed mid-way and resumed with --resume ends with the run.json of a run
/// that was never interrupted (timings and folder names aside).</summary>
public class MethodResumeTests
{
    sealed class Killed : Exception;

    sealed class KillAt(Func<TrainProgress, bool> when) : IProgress<TrainProgress>
    {
        public void Report(TrainProgress value) { if (when(value)) throw new Killed(); }
    }

    static MethodRunSetup Setup(string dir, DataBundle data, bool resume) => new()
    {
        OutDir = dir, Data = data, DataOptions = new DataOptions("quadrants"), Compute = Compute.Cpu, Resume = resume,
        CreateModel = () =>
        {
            Seeding.Seed(2);
            return ModelZoo.Create("mlp", new ModelOptions(Classes: 4, InChannels: 1, Width: 0.0625, InputSize: 8));
        },
        // A checkpoint after every batch, so a kill can land mid-epoch.
        Pretrain = new TrainOptions { Epochs = 2, BatchSize = 32, LearningRate = 0.05, Seed = 2, CheckpointEveryBatches = 1 },
        Options = new MethodOptions
        {
            Finetune = new TrainOptions { Epochs = 2, BatchSize = 32, LearningRate = 0.005, Seed = 2, CheckpointEveryBatches = 1 },
            MaxIterations = 3, Tolerance = 100, Seed = 2, PruneRatio = 0.4,
        },
    };

    [Theory]
    [InlineData("easier", "pretrain", 2, 2)]      // killed in the second pretraining epoch
    [InlineData("easier", "finetune", 1, 3)]      // killed while fine-tuning an iteration
    [InlineData("nepenthe", "finetune", 2, 1)]    // pruning masks in flight
    public void A_run_killed_while_training_resumes_to_the_uninterrupted_record(string method, string stage, int epoch, int batch)
    {
        using var data = TestData.Quadrants(train: 128, size: 8);
        using var straight = new TempDir();
        using var killed = new TempDir();
        MethodRun.Run(DepthMethod.Create(method), Setup(straight.Path, data, resume: false));

        int finetunes = 0;
        var kill = new KillAt(p =>
        {
            if (p.Stage == "finetune" && p.Epoch == 1 && p.Batch == 1) finetunes++;
            bool due = p.Stage == stage && p.Epoch == epoch && p.Batch == batch;
            return due && (stage == "pretrain" || finetunes == 2);   // fine-tuning: in the second iteration
        });
        Assert.Throws<Killed>(() => MethodRun.Run(DepthMethod.Create(method), Setup(killed.Path, data, resume: false), kill));
        MethodRun.Run(DepthMethod.Create(method), Setup(killed.Path, data, resume: true));

        Assert.Equal(RunJson.Normalised(straight.Path), RunJson.Normalised(killed.Path));
    }

    [Fact]
    public void A_run_killed_between_iterations_resumes_to_the_uninterrupted_record()
    {
        using var data = TestData.Quadrants(train: 128, size: 8);
        using var straight = new TempDir();
        using var killed = new TempDir();
        MethodRun.Run(new Easier(), Setup(straight.Path, data, resume: false));
        // The log line of an iteration's result comes after iter-K.ckpt and before current.ckpt is updated.
        Assert.Throws<Killed>(() => MethodRun.Run(new Easier(), Setup(killed.Path, data, resume: false), null,
            line => { if (line.StartsWith("iteration 2: removed 2")) throw new Killed(); }));
        MethodRun.Run(new Easier(), Setup(killed.Path, data, resume: true));
        Assert.Equal(RunJson.Normalised(straight.Path), RunJson.Normalised(killed.Path));
    }
}
