using DepthPrune.Deployment;
using DepthPrune.Folding;
using DepthPrune.Models;
using DepthPrune.Runtime;
using DepthPrune.Tests.Training;
using DepthPrune.Training;

namespace DepthPrune.Tests.Folding;

/// <summary>Healing an inexact fold: the folded network is trained on the training split, its
/// top-1 does not fall, and the exported ONNX model is the healed network.</summary>
public class FoldHealingTests
{
    [Fact]
    public void Healing_an_inexact_fold_keeps_or_raises_top1_and_exports_the_healed_weights()
    {
        using var data = TestData.Quadrants(train: 512, test: 256, size: 8);
        Seeding.Seed(3);
        using var model = ModelZoo.Create("resnet18-cifar", new ModelOptions(Classes: 4, InChannels: 1, Width: 0.125, InputSize: 8));
        Trainer.Fit(model, data, new TrainOptions { Epochs = 3, LearningRate = 0.05, Seed = 3 }, Compute.Cpu, new TrainHooks());
        // Every block's inner ReLU removed: each block is folded into one 5x5 conv, inexact at the borders.
        foreach (var slot in model.Slots.Where(s => s.Key.EndsWith("relu1"))) slot.Value.SetIdentity();
        using var dir = new TempDir();
        var heal = new TrainOptions { Epochs = 2, LearningRate = 0.01, Seed = 3 };
        var report = Deployer.Deploy(model, data, new DeploySettings(FoldPolicy.Depth, 64, 3, dir["healed.onnx"], heal), Compute.Cpu);

        Assert.Contains(report.Merges, m => !m.Exact);
        Assert.Equal(new HealResult(2, "train", report.Healing!.Top1Before, report.Healing.Top1After, true, 0.01), report.Healing);
        Assert.True(report.Healing.Top1After >= report.Healing.Top1Before);
        Assert.NotNull(report.Unhealed);
        // Here the fold costs accuracy (70.3% against the model's 95.7%), and healing wins it back (100%).
        Assert.True(report.Unhealed!.Top1Candidate < report.Unhealed.Top1Reference - 5);
        Assert.True(report.Test.Top1Candidate >= report.Unhealed.Top1Candidate,
            $"top-1 {report.Unhealed.Top1Candidate:F2} before healing, {report.Test.Top1Candidate:F2} after");
        // The original's top-1 is what it was: healing trains a copy, not the model.
        Assert.Equal(report.Unhealed.Top1Reference, report.Test.Top1Reference);
        // ONNX is written from the stages after healing: it computes the healed network.
        Assert.Equal(100.0, report.Onnx!.Agreement);
        Assert.True(report.Onnx.MaxRelativeDifference < 1e-4, $"ONNX vs healed network: {report.Onnx.MaxRelativeDifference}");
    }

    [Fact]
    public void Healing_that_lowers_top1_starts_again_at_a_tenth_of_the_rate_and_keeps_the_rate_that_helps()
    {
        // Without BatchNorm, 20 and 2 train this network badly (lower top-1, undone); 0.2 trains it to 100%.
        var report = ExactFoldHealedFrom(20);
        var h = report.Healing!;
        Assert.Equal((0, 2, true), (h.Diverged, h.Lowered, h.Kept));
        Assert.Equal(0.2, h.LearningRate, 12);
        Assert.True(h.Top1After > h.Top1Before, $"judged top-1 {h.Top1Before} -> {h.Top1After}");
        // ONNX is the network trained at 0.2, not at a rate that was undone.
        Assert.Equal(100.0, report.Onnx!.Agreement);
        Assert.True(report.Onnx.MaxRelativeDifference < 1e-4, $"{report.Onnx.MaxRelativeDifference}");
    }

    [Theory]
    [InlineData(1e3, 1, 1, 10.0)]     // 1000 diverges; 100 and 10 lower top-1
    [InlineData(1e5, 2, 0, 1000.0)]   // 1e5, 1e4 and 1000 all diverge
    public void Healing_that_fails_at_every_rate_is_undone(double rate, int diverged, int lowered, double last)
    {
        var report = ExactFoldHealedFrom(rate);
        var h = report.Healing!;
        Assert.Equal((diverged, lowered, last, false), (h.Diverged, h.Lowered, h.LearningRate, h.Kept));
        Assert.Equal(lowered == 0, double.IsNaN(h.Top1After));   // the last rate diverged, or lowered top-1
        // Undone: the exact fold as it was, the failed weights gone.
        Assert.Equal(report.Unhealed!.Top1Candidate, report.Test.Top1Candidate);
        Assert.Equal(100.0, report.Test.Agreement);
        Assert.True(report.Test.MaxRelativeDifference < 1e-4, $"{report.Test.MaxRelativeDifference}");
        Assert.Equal(100.0, report.Onnx!.Agreement);
    }

    /// <summary>A trained ResNet-18 folded exactly and exported, healed 1 epoch from `rate` down.</summary>
    static DeploymentReport ExactFoldHealedFrom(double rate)
    {
        using var data = TestData.Quadrants(train: 256, test: 128, size: 8);
        Seeding.Seed(4);
        using var model = ModelZoo.Create("resnet18-cifar", new ModelOptions(Classes: 4, InChannels: 1, Width: 0.125, InputSize: 8));
        Trainer.Fit(model, data, new TrainOptions { Epochs = 3, LearningRate = 0.05, Seed = 4 }, Compute.Cpu, new TrainHooks());
        using var dir = new TempDir();
        var heal = new TrainOptions { Epochs = 1, LearningRate = rate, Momentum = 0.9, Seed = 4 };
        return Deployer.Deploy(model, data, new DeploySettings(FoldPolicy.Exact, 64, 3, dir["m.onnx"], heal), Compute.Cpu);
    }
}
