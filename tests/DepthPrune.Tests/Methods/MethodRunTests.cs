using System.Text.Json;
using DepthPrune.Data;
using DepthPrune.Methods;
using DepthPrune.Models;
using DepthPrune.Runtime;
using DepthPrune.Tests.Training;
using DepthPrune.Training;

namespace DepthPrune.Tests.Methods;

public class MethodRunTests
{
    static MethodRunSetup Setup(string dir, DataBundle data, int maxIterations, bool resume = false) => new()
    {
        OutDir = dir, Data = data, DataOptions = new DataOptions("quadrants"), Compute = Compute.Cpu, Resume = resume,
        CreateModel = () =>
        {
            Seeding.Seed(2);
            return ModelZoo.Create("mlp", new ModelOptions(Classes: 4, InChannels: 1, Width: 0.0625, InputSize: 8));
        },
        Pretrain = new TrainOptions { Epochs = 2, BatchSize = 32, LearningRate = 0.05, Seed = 2 },
        Options = new MethodOptions
        {
            Finetune = new TrainOptions { Epochs = 1, BatchSize = 32, LearningRate = 0.005, Seed = 2 },
            MaxIterations = maxIterations, Tolerance = 100, Seed = 2,
        },
    };

    [Theory]
    [InlineData("easier")]
    [InlineData("nepenthe")]
    [InlineData("egp")]
    [InlineData("imp")]
    [InlineData("layerfold")]
    [InlineData("random")]
    public void Every_method_writes_a_run_record_with_the_promised_fields(string method)
    {
        using var data = TestData.Quadrants(train: 128, size: 8);
        using var dir = new TempDir();
        var run = MethodRun.Run(DepthMethod.Create(method), Setup(dir.Path, data, maxIterations: 2));
        Assert.Equal(2, run.Iterations.Count);
        using var json = JsonDocument.Parse(File.ReadAllText(dir["run.json"]));
        var root = json.RootElement;
        Assert.Equal(method, root.GetProperty("method").GetString());
        Assert.True(root.GetProperty("dense_top1").GetDouble() > 0);
        var first = root.GetProperty("iterations")[0];
        foreach (string field in new[] { "iteration", "removed", "total", "removed_names", "top1", "sparsity", "macs", "depth", "entropies" })
            Assert.True(first.TryGetProperty(field, out _), $"run.json iteration lacks {field}");
        Assert.Equal(3, first.GetProperty("total").GetInt32());
        Assert.True(File.Exists(dir["iter-2.ckpt"]));
        if (method is "easier" or "random") Assert.Equal(2, run.Iterations[1].Removed);
        if (method is "egp" or "nepenthe" or "imp") Assert.True(run.Iterations[1].Sparsity > run.Iterations[0].Sparsity);
    }

    [Fact]
    public void A_stopped_run_resumes_to_the_same_result_as_an_uninterrupted_one()
    {
        using var data = TestData.Quadrants(train: 128, size: 8);
        using var straight = new TempDir();
        using var stopped = new TempDir();
        var full = MethodRun.Run(new EntropyGuidedPruning(nepenthe: true), Setup(straight.Path, data, maxIterations: 2));
        MethodRun.Run(new EntropyGuidedPruning(nepenthe: true), Setup(stopped.Path, data, maxIterations: 1));
        // A finished run resumes with a higher limit and continues from its last iteration.
        var resumed = MethodRun.Run(new EntropyGuidedPruning(nepenthe: true), Setup(stopped.Path, data, maxIterations: 2, resume: true));
        Assert.Equal(full.Iterations.Select(i => i.Top1), resumed.Iterations.Select(i => i.Top1));
        Assert.Equal(full.Iterations.Select(i => i.Sparsity), resumed.Iterations.Select(i => i.Sparsity));
    }

    [Fact]
    public void Run_json_counts_the_images_trained_and_probed()
    {
        using var data = TestData.Quadrants(train: 96, size: 8);
        using var dir = new TempDir();
        var run = MethodRun.Run(new Easier(), Setup(dir.Path, data, maxIterations: 2));
        Assert.Equal(2, run.Iterations.Count);
        // Pretraining 2 epochs, then 1 fine-tuning epoch per iteration, of 96 images each.
        Assert.Equal(2 * 96L, run.Dense!.ImagesTrained);
        Assert.All(run.Iterations, i => Assert.Equal(96L, i.ImagesTrained));
        Assert.Equal(4 * 96L, run.TotalImagesTrained);
        // The first iteration probes before removing and after fine-tuning; later ones reuse the last probe.
        Assert.Equal([2 * 96L, 96L], run.Iterations.Select(i => i.ImagesProbed));
        Assert.Contains("\"total_images_trained\": 384", File.ReadAllText(dir["run.json"]));
    }

    [Fact]
    public void A_runs_dense_checkpoint_starts_another_run()
    {
        using var data = TestData.Quadrants(train: 96, size: 8);
        using var first = new TempDir();
        using var second = new TempDir();
        var run = MethodRun.Run(new Easier(), Setup(first.Path, data, maxIterations: 1));
        var again = MethodRun.Run(new Easier(), Setup(second.Path, data, maxIterations: 1) with { DenseCheckpoint = first["dense.ckpt"] });
        Assert.Equal(run.DenseTop1, again.DenseTop1);
        Assert.Equal(0, again.Dense!.ImagesTrained);   // nothing pretrained
    }

    [Fact]
    public void Distilled_fine_tuning_changes_the_result_and_is_recorded()
    {
        using var data = TestData.Quadrants(train: 128, size: 8);
        using var plainDir = new TempDir();
        using var distilledDir = new TempDir();
        var plain = MethodRun.Run(new Easier(), Setup(plainDir.Path, data, maxIterations: 1));
        var setup = Setup(distilledDir.Path, data, maxIterations: 1);
        var distilled = MethodRun.Run(new Easier(), setup with { Options = setup.Options with { Distill = (4.0, 0.9) } });
        Assert.Null(plain.Distill);
        Assert.Equal("T=4, alpha=0.9", distilled.Distill);
        Assert.Equal(plain.DenseTop1, distilled.DenseTop1);             // the dense model is the same
        // Fine-tuning learnt something else: the entropies probed after it differ.
        Assert.NotEqual(plain.Iterations[^1].Entropies, distilled.Iterations[^1].Entropies);
    }

    [Fact]
    public void A_folder_with_a_run_is_not_overwritten_without_resume()
    {
        using var data = TestData.Quadrants(train: 64, size: 8);
        using var dir = new TempDir();
        MethodRun.Run(new Easier(), Setup(dir.Path, data, maxIterations: 1));
        byte[] before = File.ReadAllBytes(dir["run.json"]);
        var e = Assert.Throws<UsageException>(() => MethodRun.Run(new Easier(), Setup(dir.Path, data, maxIterations: 1)));
        Assert.Contains("--resume", e.Message);
        Assert.Equal(before, File.ReadAllBytes(dir["run.json"]));
    }
}

public class MethodRunInputTests
{
    [Fact]
    public void A_checkpoint_for_other_images_is_refused_before_anything_is_written()
    {
        using var data = TestData.Quadrants(train: 64, size: 8);
        using var dir = new TempDir();
        using (var model = ModelZoo.Create("mlp", new ModelOptions(Classes: 4, InChannels: 1, Width: 0.0625, InputSize: 16)))
            Checkpoint.Save(dir["other.ckpt"], model, new CheckpointMeta { Model = model.Name, ModelOptions = model.Options, Complete = true });
        var setup = new MethodRunSetup
        {
            OutDir = dir["run"], Data = data, DataOptions = new DataOptions("quadrants"), Compute = Compute.Cpu, DenseCheckpoint = dir["other.ckpt"],
            Options = new MethodOptions { Finetune = new TrainOptions { Epochs = 1 } },
        };
        var e = Assert.Throws<UsageException>(() => MethodRun.Run(new Easier(), setup));
        Assert.Contains("takes [1,16,16]", e.Message);
        Assert.False(File.Exists(dir["run/current.ckpt"]));
    }
}
