using DepthPrune.Runtime;
using DepthPrune.Training;

namespace DepthPrune.Tests.Training;

public class TrainPresetTests
{
    [Theory]
    [InlineData("resnet18-cifar", "cifar10", 0.1, 160)]
    [InlineData("vgg16bn", "cifar10", 0.01, 160)]
    [InlineData("swin-t", "tiny-imagenet", 1e-3, 160)]
    [InlineData("resnet18", "pacs", 1e-3, 30)]
    public void Paper_presets_carry_the_papers_schedules(string model, string dataset, double lr, int epochs)
    {
        var preset = TrainPresets.For(model, dataset, "paper");
        Assert.Equal(lr, preset.Options.LearningRate);
        Assert.Equal(epochs, preset.Options.Epochs);
        Assert.Equal(ScheduleKind.MultiStep, preset.Options.Schedule);
        Assert.Equal(1.0, preset.Width);
    }

    [Fact]
    public void Cpu_preset_scales_down_and_says_so()
    {
        var preset = TrainPresets.For("resnet18-cifar", "cifar10", "cpu");
        Assert.Equal(4, preset.Options.Epochs);
        Assert.Equal(0.25, preset.Width);
        Assert.Equal(10000, preset.TrainSubset);
        Assert.Contains("width x0.25", preset.Notes);
        Assert.Contains("10000 training images", preset.Notes);
        var flowers = TrainPresets.For("resnet18", "flowers102", "paper");
        Assert.Equal(OptimizerKind.Adam, flowers.Options.Optimizer);
        Assert.Contains("--preset", Assert.Throws<UsageException>(() => TrainPresets.For("mlp", "mnist", "gpu")).Message);
    }

    [Fact]
    public void A_data_set_without_a_paper_schedule_is_described_in_plain_words()
    {
        var preset = TrainPresets.For("lenet5", "fashion-mnist", "cpu");
        Assert.StartsWith("CPU preset, scaled down from the project's own schedule for fashion-mnist (the papers give none)", preset.Notes);
    }

    [Fact]
    public void A_schedule_is_described_in_one_line_with_its_resolved_values()
    {
        var paper = TrainPresets.For("resnet18-cifar", "cifar10", "paper").Options;
        Assert.Equal("160 epochs, sgd 0.9 lr 0.1 multistep 80/120 x0.1, batch 128, wd 0.0001", paper.Describe());
        var adam = new TrainOptions { Epochs = 3, Optimizer = OptimizerKind.Adam, LearningRate = 1e-3, WeightDecay = 0, Schedule = ScheduleKind.Constant, BatchSize = 16 };
        Assert.Equal("3 epochs, adam lr 0.001 constant, batch 16, wd 0", adam.Describe());
    }
}
