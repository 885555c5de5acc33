using DepthPrune.Data;
using DepthPrune.Methods;
using DepthPrune.Models;
using DepthPrune.Runtime;
using DepthPrune.Tests.Training;
using DepthPrune.Training;
using static TorchSharp.torch;

namespace DepthPrune.Tests.Methods;

/// <summary>The stop rule and the choice of the answer: the last iteration within tolerance of dense,
/// judged on the validation split when there is one, else on the test split.</summary>
public class ToleranceStopTests
{
    /// <summary>Does nothing until iteration `breakAt`, then zeroes every weight (top-1 falls to chance).</summary>
    sealed class Saboteur(int breakAt) : DepthMethod
    {
        public override string Name => "saboteur";

        public override IReadOnlyList<string>? Before(MethodContext context)
        {
            if (context.Iteration == breakAt)
                using (no_grad())
                    foreach (var p in context.Model.Net.parameters()) p.zero_();
            return [];
        }
    }

    static MethodRunSetup Setup(string dir, DataBundle data, int breakAt, double tolerance, double confidence = 0.5) => new()
    {
        OutDir = dir, Data = data, DataOptions = new DataOptions("quadrants"), Compute = Compute.Cpu,
        CreateModel = () =>
        {
            Seeding.Seed(2);
            return ModelZoo.Create("mlp", new ModelOptions(Classes: 4, InChannels: 1, Width: 0.125, InputSize: 8));
        },
        Pretrain = new TrainOptions { Epochs = 6, BatchSize = 32, LearningRate = 0.05, Seed = 2 },
        Options = new MethodOptions { Finetune = new TrainOptions { Epochs = 0 }, MaxIterations = 5, Tolerance = tolerance, ToleranceConfidence = confidence, Seed = 2 },
    };

    [Fact]
    public void The_run_stops_at_the_first_iteration_below_tolerance_and_names_the_last_one_within()
    {
        using var data = TestData.Quadrants(train: 256, size: 8);
        using var dir = new TempDir();
        var run = MethodRun.Run(new Saboteur(breakAt: 3), Setup(dir.Path, data, breakAt: 3, tolerance: 5));
        Assert.True(run.DenseTop1 > 60, $"dense {run.DenseTop1}");
        Assert.Equal("test", run.StoppingSplit);
        Assert.Equal([true, true, false], run.Iterations.Select(i => i.WithinTolerance));
        Assert.Equal(2, run.BestIteration);
        Assert.Equal(Path.Combine(dir.Path, "iter-2.ckpt"), run.BestCheckpoint);
        Assert.StartsWith("top-1 fell more than 5 points", run.StopReason);
        Assert.True(File.Exists(dir["iter-3.ckpt"]));   // kept for inspection, not chosen
    }

    [Fact]
    public void With_a_validation_split_the_validation_top1_decides()
    {
        using var data = TestData.Quadrants(train: 256, size: 8, validation: 64);
        using var dir = new TempDir();
        var run = MethodRun.Run(new Saboteur(breakAt: 2), Setup(dir.Path, data, breakAt: 2, tolerance: 5));
        Assert.Equal("validation", run.StoppingSplit);
        Assert.NotNull(run.DenseValTop1);
        foreach (var record in run.Iterations)
        {
            Assert.NotNull(record.ValTop1);
            Assert.Equal(record.ValTop1 >= run.DenseValTop1 - 5, record.WithinTolerance);
        }
        Assert.Equal(1, run.BestIteration);
        Assert.Equal(2, run.Iterations.Count);
    }

    /// <summary>A model identical to dense on 64 validation images: the point estimate is 0, but 64
    /// images cannot show that it is within 2 points at 95%. By hand: no image disagrees, so the
    /// adjusted shares are b = c = 0.5/66 and the standard error is 100 sqrt((b + c)/66) = 100/66
    /// points; the lower bound is -1.6449 x 100/66 = -2.49 &lt; -2.</summary>
    [Fact]
    public void At_95_percent_a_model_equal_to_dense_on_64_images_is_not_shown_within_2_points()
    {
        using var data = TestData.Quadrants(train: 256, size: 8, validation: 64);
        using var pointDir = new TempDir();
        using var boundDir = new TempDir();
        var point = MethodRun.Run(new Saboteur(breakAt: 3), Setup(pointDir.Path, data, breakAt: 3, tolerance: 2));
        var bound = MethodRun.Run(new Saboteur(breakAt: 3), Setup(boundDir.Path, data, breakAt: 3, tolerance: 2, confidence: 0.95));

        var first = bound.Iterations[0].ValDifference!;
        Assert.Equal(0, first.Difference, 9);
        Assert.Equal(64, first.Images);
        Assert.Equal(100.0 / 66, first.StandardError, 9);
        Assert.Equal(-1.6448536269514722 * 100 / 66, first.Lower, 6);
        Assert.Equal([true, true, false], point.Iterations.Select(i => i.WithinTolerance));
        Assert.Equal(2, point.BestIteration);
        Assert.Equal([false], bound.Iterations.Select(i => i.WithinTolerance));
        Assert.Null(bound.BestIteration);
        Assert.Equal(0.95, bound.ToleranceConfidence);
        Assert.Contains("lower 95% bound of validation top-1 minus dense", bound.SelectionRule);
        // The test split is compared the same way, and reported.
        Assert.Equal(bound.Iterations[0].Top1 - bound.DenseTop1, bound.Iterations[0].TestDifference!.Difference, 9);
    }
}
