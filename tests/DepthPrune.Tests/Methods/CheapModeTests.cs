using DepthPrune.Data;
using DepthPrune.Methods;
using DepthPrune.Models;
using DepthPrune.Runtime;
using DepthPrune.Tests.Training;
using DepthPrune.Training;
using static TorchSharp.torch;

namespace DepthPrune.Tests.Methods;

/// <summary>The rules that make a method run cheaper: fine-tunes that stop once recovered, several
/// removals per iteration rolled back when they leave the tolerance, sampled entropy.</summary>
public class CheapModeTests
{
    static MethodRunSetup Setup(string dir, DataBundle data, MethodOptions options) => new()
    {
        OutDir = dir, Data = data, DataOptions = new DataOptions("quadrants"), Compute = Compute.Cpu, Recorded = r => DepthPrune.Reporting.RunReport.Write(dir, r),
        CreateModel = () =>
        {
            Seeding.Seed(3);
            return ModelZoo.Create("mlp", new ModelOptions(Classes: 4, InChannels: 1, Width: 0.0625, InputSize: 8));
        },
        Pretrain = new TrainOptions { Epochs = 3, BatchSize = 32, LearningRate = 0.05, Seed = 3 },
        Options = options,
    };

    static MethodOptions Options(int finetuneEpochs = 1) => new()
    {
        Finetune = new TrainOptions { Epochs = finetuneEpochs, BatchSize = 32, LearningRate = 0.005, Seed = 3 }, Seed = 3,
    };

    /// <summary>Removes as many activations as it may; allowed more than one, it also breaks the
    /// classifier (every input goes to class 0), so that iteration must be rolled back.</summary>
    sealed class GreedyBreaker(bool evenAlone = false) : DepthMethod
    {
        public override string Name => "greedy-breaker";
        public override IReadOnlyList<string>? Before(MethodContext c)
        {
            if (c.MaxRemovals == 1 && !evenAlone) return [];   // the retry: fine-tuning only
            var slots = c.Model.Structure.Activations.Where(n => !c.Model.Slots[n].IsLinear).Take(c.MaxRemovals).ToList();
            foreach (var slot in slots) c.Model.Slots[slot].SetIdentity();
            var last = c.Model.Net.parameters().Last();   // the classifier's bias
            using (no_grad()) { last.zero_(); last[0].fill_(1e6f); }
            return slots;
        }
    }

    [Fact]
    public void Several_removals_that_leave_the_tolerance_are_rolled_back_and_retried_with_half()
    {
        using var data = TestData.Quadrants(train: 128, size: 8, validation: 64);
        using var dir = new TempDir();
        var options = Options(finetuneEpochs: 0) with { MaxRemovals = 4, Tolerance = 10, MaxIterations = 1 };
        var run = MethodRun.Run(new GreedyBreaker(), Setup(dir.Path, data, options));
        Assert.True(run.DenseValTop1 > 40, $"dense validation top-1 {run.DenseValTop1} leaves no room to fail");
        var undone = Assert.Single(run.RolledBack);
        Assert.Equal(3, undone.NewlyRemoved.Count);
        Assert.False(undone.WithinTolerance);
        // The retried iteration started again from the dense weights and slots.
        var kept = Assert.Single(run.Iterations);
        Assert.Equal(0, kept.Removed);
        Assert.Equal(run.DenseTop1, kept.Top1);
        using var dense = Checkpoint.Load(dir["dense.ckpt"], Compute.Cpu);
        using var after = Checkpoint.Load(dir["iter-1.ckpt"], Compute.Cpu);
        foreach (var (name, tensor) in dense.Model.Net.state_dict())
            Assert.True(tensor.equal(after.Model.Net.state_dict()[name]).all().item<bool>(), $"{name} was not restored");
        Assert.Contains("\"rolled_back\"", File.ReadAllText(dir["run.json"]));
    }

    [Fact]
    public void The_allowance_survives_a_resume_and_the_resumed_run_rolls_back_as_the_straight_one_does()
    {
        using var data = TestData.Quadrants(train: 128, size: 8, validation: 64);
        using var straight = new TempDir();
        using var stopped = new TempDir();
        var options = Options(finetuneEpochs: 0) with { MaxRemovals = 4, Tolerance = 10 };
        var full = MethodRun.Run(new GreedyBreaker(), Setup(straight.Path, data, options with { MaxIterations = 2 }));
        MethodRun.Run(new GreedyBreaker(), Setup(stopped.Path, data, options with { MaxIterations = 1 }));
        var resumed = MethodRun.Run(new GreedyBreaker(), Setup(stopped.Path, data, options with { MaxIterations = 2 }) with { Resume = true });
        // Iteration 1 rolls back from 4 to 1; after it the allowance doubles to 2, so iteration 2 rolls back too.
        Assert.Equal([1, 2], full.RolledBack.Select(r => r.Iteration));
        Assert.Equal(full.RolledBack.Select(r => r.NewlyRemoved.Count), resumed.RolledBack.Select(r => r.NewlyRemoved.Count));
        Assert.Equal([3, 2], full.RolledBack.Select(r => r.NewlyRemoved.Count));
        Assert.Equal(full.Iterations.Select(i => i.Top1), resumed.Iterations.Select(i => i.Top1));
        Assert.Equal(full.TotalImagesTrained, resumed.TotalImagesTrained);
        // Resumed between iterations, the run re-measures the probe iteration 1 measured and counted: it counts it once, as the straight run does.
        Assert.Equal(full.Iterations.Concat(full.RolledBack).Select(i => i.ImagesProbed), resumed.Iterations.Concat(resumed.RolledBack).Select(i => i.ImagesProbed));
    }

    [Fact]
    public void A_trial_with_several_removals_gives_up_after_two_checks_outside_the_tolerance()
    {
        using var data = TestData.Quadrants(train: 128, size: 8, validation: 64);
        using var dir = new TempDir();
        // Four batches an epoch, a check every batch: the broken classifier cannot recover in two.
        var options = Options(finetuneEpochs: 2) with { MaxRemovals = 4, Tolerance = 10, EarlyStop = 0.5, MaxIterations = 2 };
        var run = MethodRun.Run(new GreedyBreaker(), Setup(dir.Path, data, options));
        Assert.All(run.RolledBack, r => Assert.Equal("gave up at epoch 1, batch 2", r.StoppedEarly));
        Assert.All(run.RolledBack, r => Assert.Equal(64L, r.ImagesTrained));
        // Each retry (the dense model, fine-tuned) recovers at the first check, so the allowance doubles and iteration 2 tries two.
        Assert.All(run.Iterations, i => Assert.Equal("recovered at epoch 1, batch 1", i.StoppedEarly));
        Assert.Equal([3, 2], run.RolledBack.Select(r => r.NewlyRemoved.Count));
        Assert.Equal(3 * 128L + 2 * 64 + 2 * 32, run.TotalImagesTrained);
    }

    [Theory]
    [InlineData(4, 8L, "recovered", 2)]    // 40 batches an epoch, checks every 4: back by the quarter epoch (10 batches; the first check from it is at 12)
    [InlineData(4, 12L, "recovered", 2)]
    [InlineData(4, 16L, "recovered", 1)]   // back only later: the model sits near the edge
    [InlineData(20, 20L, "recovered", 2)]  // checks every half epoch: the first one counts
    [InlineData(4, 8L, "within tolerance, no longer improving", 1)]
    [InlineData(4, null, null, 1)]        // ran the whole cap
    public void The_allowance_doubles_only_after_an_iteration_back_within_a_quarter_epoch(int every, long? at, string? reason, int next)
    {
        var stop = new EarlyStop { Check = _ => null, EveryBatches = every, StoppedPosition = at, Reason = reason, StoppedAt = at is null ? null : (0, (int)at.Value) };
        Assert.Equal(next, RemovalAllowance.Next(1, 4, stop, judged: true, batchesPerEpoch: 40));
        Assert.Equal(4, RemovalAllowance.Next(3, 4, null, judged: false, batchesPerEpoch: 40));   // nothing judges recovery: it always grows, up to the maximum
    }

    /// <summary>Removes the first activation not kept; removing the network's first one breaks the classifier.</summary>
    sealed class FirstIsFatal : DepthMethod
    {
        public override string Name => "first-is-fatal";
        public override bool ChoosesRemovals(MethodOptions options) => true;
        public override IReadOnlyList<string>? Before(MethodContext c)
        {
            var order = c.Model.Structure.Activations;
            string? next = order.FirstOrDefault(n => !c.Model.Slots[n].IsLinear && !c.Kept.Contains(n));
            if (next is null) return null;
            c.Model.Slots[next].SetIdentity();
            if (next == order[0])
                using (no_grad()) { var last = c.Model.Net.parameters().Last(); last.zero_(); last[0].fill_(1e6f); }
            return [next];
        }
    }

    [Fact]
    public void A_failed_single_removal_is_undone_its_activation_kept_and_the_next_one_tried()
    {
        using var data = TestData.Quadrants(train: 128, size: 8, validation: 64);
        using var dir = new TempDir();
        var options = Options(finetuneEpochs: 0) with { Retries = 1, Tolerance = 10, MaxIterations = 2 };
        var run = MethodRun.Run(new FirstIsFatal(), Setup(dir.Path, data, options));
        string[] slots = ["relu1", "relu2", "relu3"];
        Assert.Equal(slots, SlotsOf(dir));
        var undone = Assert.Single(run.RolledBack);
        Assert.Equal([slots[0]], undone.NewlyRemoved);
        Assert.Equal([[slots[1]], [slots[2]]], run.Iterations.Select(i => i.NewlyRemoved));
        Assert.All(run.Iterations, i => Assert.True(i.WithinTolerance));
        Assert.Equal(1, run.Retries);

        // Without retries the same failure ends the run, as published.
        using var published = new TempDir();
        var stopped = MethodRun.Run(new FirstIsFatal(), Setup(published.Path, data, options with { Retries = 0 }));
        Assert.Empty(stopped.RolledBack);
        Assert.False(Assert.Single(stopped.Iterations).WithinTolerance);
    }

    static IReadOnlyList<string> SlotsOf(TempDir dir)
    {
        using var dense = Checkpoint.Load(dir["dense.ckpt"], Compute.Cpu);
        return dense.Model.Structure.Activations.ToList();
    }

    [Fact]
    public void A_single_removal_that_leaves_the_tolerance_ends_the_run_as_published()
    {
        using var data = TestData.Quadrants(train: 128, size: 8, validation: 64);
        using var dir = new TempDir();
        var options = Options(finetuneEpochs: 0) with { MaxRemovals = 1, Tolerance = 10, MaxIterations = 3 };
        var run = MethodRun.Run(new GreedyBreaker(evenAlone: true), Setup(dir.Path, data, options));
        Assert.Empty(run.RolledBack);
        var only = Assert.Single(run.Iterations);
        Assert.False(only.WithinTolerance);
        Assert.Null(run.BestIteration);
        Assert.Equal("the lower 95% bound of top-1 minus dense fell below -10 points", run.StopReason);
    }

    [Fact]
    public void Easier_allowed_two_removals_takes_the_two_lowest_entropies()
    {
        using var data = TestData.Quadrants(train: 128, size: 8, validation: 64);
        using var dir = new TempDir();
        var run = MethodRun.Run(new Easier(), Setup(dir.Path, data, Options() with { MaxRemovals = 2, Tolerance = 100, MaxIterations = 1 }));
        var first = Assert.Single(run.Iterations);
        Assert.Equal(2, first.NewlyRemoved.Count);
        // The two removed are the two lowest entropies the dense model had.
        using var dense = Checkpoint.Load(dir["dense.ckpt"], Compute.Cpu);
        var lowest = DepthPrune.Entropy.EntropyProbe.Measure(dense.Model, data.ProbeLoader(256, Compute.Cpu)).OrderBy(e => e.Entropy).Take(2).Select(e => e.Name);
        Assert.Equal(lowest.Order(), first.NewlyRemoved.Order());
    }

    [Fact]
    public void Fine_tuning_stops_once_validation_is_back_and_counts_only_the_images_trained()
    {
        using var data = TestData.Quadrants(train: 128, size: 8, validation: 64);
        using var dir = new TempDir();
        // Tolerance 100 with fraction 1: recovered at the first check, a quarter epoch (one batch) in.
        var log = new List<string>();
        var run = MethodRun.Run(new Easier(), Setup(dir.Path, data, Options(finetuneEpochs: 2) with { EarlyStop = 1, Tolerance = 100, MaxIterations = 2 }), log: log.Add);
        Assert.All(run.Iterations, i => Assert.Equal(32L, i.ImagesTrained));
        // Each check says what validation stood at against the mark it had to reach.
        Assert.Equal(2, log.Count(l => l.Contains("check after 0.25 epochs: validation") && l.EndsWith(": recovered")));
        Assert.All(run.Iterations, i => Assert.Equal("recovered at epoch 1, batch 1", i.StoppedEarly));
        Assert.Equal(3 * 128L + 2 * 32L, run.TotalImagesTrained);
        Assert.Equal(1, run.EarlyStop);
    }

    [Fact]
    public void Fine_tuning_within_the_tolerance_that_stops_improving_ends_at_the_plateau()
    {
        using var data = TestData.Quadrants(train: 128, size: 8, validation: 64);
        using var dir = new TempDir();
        // A broken classifier and a learning rate too small to change anything: validation stays put,
        // within the (wide) tolerance but never back to dense, so the second check sees a plateau.
        var options = Options(finetuneEpochs: 2) with { MaxRemovals = 2, Tolerance = 100, EarlyStop = 0, MaxIterations = 1 };
        options = options with { Finetune = options.Finetune with { LearningRate = 1e-12 } };
        var run = MethodRun.Run(new GreedyBreaker(), Setup(dir.Path, data, options));
        var only = Assert.Single(run.Iterations);
        Assert.True(only.ValTop1 < run.DenseValTop1);
        Assert.Equal("within tolerance, no longer improving at epoch 1, batch 2", only.StoppedEarly);
        Assert.Equal(64L, only.ImagesTrained);
    }

    [Fact]
    public void Early_stopping_needs_a_validation_split()
    {
        using var data = TestData.Quadrants(train: 64, size: 8);
        using var dir = new TempDir();
        var e = Assert.Throws<UsageException>(() => MethodRun.Run(new Easier(), Setup(dir.Path, data, Options() with { EarlyStop = 0.5 })));
        Assert.Contains("--early-stop", e.Message);
        Assert.Contains("--val-split", e.Message);
        Assert.False(File.Exists(dir["run.json"]));
    }

    [Fact]
    public void A_sampled_probe_with_another_estimator_is_refused_before_any_work()
    {
        using var data = TestData.Quadrants(train: 64, size: 8, validation: 16);
        using var dir = new TempDir();
        var options = Options() with { ProbeSample = 32, Estimator = DepthPrune.Entropy.EntropyEstimator.BatchMean };
        var e = Assert.Throws<UsageException>(() => MethodRun.Run(new Easier(), Setup(dir.Path, data, options)));
        Assert.Contains("ProbeSample 32: needs Estimator dataset", e.Message);
        Assert.False(File.Exists(dir["dense.ckpt"]));
    }

    [Fact]
    public void A_sampled_probe_records_its_sample_and_the_images_it_probed()
    {
        using var data = TestData.Quadrants(train: 256, size: 8, validation: 64);
        using var dir = new TempDir();
        var run = MethodRun.Run(new Easier(), Setup(dir.Path, data, Options() with { ProbeSample = 64, Tolerance = 100, MaxIterations = 2 }));
        Assert.All(run.Iterations, i => Assert.InRange(i.ProbeSample!.Value, 64, 256));
        Assert.All(run.Iterations, i => Assert.True(i.ImagesProbed >= i.ProbeSample));
        Assert.Equal(64, run.ProbeSample);
    }

    [Fact]
    public void A_final_fine_tune_of_the_best_model_is_recorded_and_kept_only_if_validation_holds()
    {
        using var data = TestData.Quadrants(train: 128, size: 8, validation: 64);
        using var dir = new TempDir();
        var run = MethodRun.Run(new Easier(), Setup(dir.Path, data, Options() with { FinalEpochs = 2, Tolerance = 100, MaxIterations = 1 }));
        var final = run.Final!;
        var best = Assert.Single(run.Iterations);
        Assert.Equal(2 * 128L, final.ImagesTrained);
        Assert.Equal(3 * 128L + 128 + 2 * 128, run.TotalImagesTrained);
        Assert.Equal(final.ValTop1 >= best.ValTop1, final.WithinTolerance);
        Assert.Equal(final.WithinTolerance ? dir["final.ckpt"] : best.Checkpoint, run.BestCheckpoint);
        // The final model is the best one trained further: same removals, different weights.
        using var after = Checkpoint.Load(dir["final.ckpt"], Compute.Cpu);
        Assert.Equal(best.RemovedNames, after.Model.Structure.Activations.Where(n => after.Model.Slots[n].IsLinear));
        Assert.Contains("Final fine-tune of the best model", File.ReadAllText(dir["report.md"]));
    }
}
