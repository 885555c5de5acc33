using DepthPrune.Runtime;

namespace DepthPrune.Training;

/// <summary>Training schedules per (model, data set): the papers' ("paper") and a scaled-down
/// one that finishes on a laptop CPU ("cpu"). Every change from the paper is stated in Notes.</summary>
public static class TrainPresets
{
    public sealed record Preset(TrainOptions Options, double Width, int? TrainSubset, string Notes);

    public static readonly string[] Names = ["paper", "cpu"];

    public static Preset For(string model, string dataset, string name)
    {
        TrainOptions paper;
        string source;
        switch (dataset)
        {
            case "cifar10" or "tiny-imagenet":
                double lr = model.StartsWith("vgg") ? 0.01 : model.StartsWith("swin") ? 1e-3 : 0.1;
                paper = new TrainOptions { Epochs = 160, BatchSize = 128, LearningRate = lr, Momentum = 0.9, WeightDecay = 1e-4,
                    Schedule = ScheduleKind.MultiStep, Milestones = [80, 120], Gamma = 0.1 };
                source = "papers' CIFAR-10/Tiny-ImageNet schedule: SGD 0.9, batch 128, 160 epochs, milestones 80/120, wd 1e-4";
                break;
            case "pacs" or "vlcs":
                paper = new TrainOptions { Epochs = 30, BatchSize = 16, LearningRate = 1e-3, Momentum = 0.9, WeightDecay = 5e-4,
                    Schedule = ScheduleKind.MultiStep, Milestones = [24], Gamma = 0.1 };
                source = "papers' PACS/VLCS schedule: SGD lr 1e-3, 30 epochs, milestone 24, batch 16, wd 5e-4";
                break;
            case "flowers102" or "dtd" or "aircraft":
                paper = new TrainOptions { Epochs = 50, BatchSize = 16, Optimizer = OptimizerKind.Adam, LearningRate = 1e-4, WeightDecay = 0,
                    Schedule = ScheduleKind.Constant };
                source = "papers' transfer schedule: Adam lr 1e-4, 50 epochs, batch 16 (ImageNet-pretrained start)";
                break;
            default:
                paper = new TrainOptions { Epochs = 10, BatchSize = 128, LearningRate = 0.05, Momentum = 0.9, WeightDecay = 5e-4,
                    Schedule = ScheduleKind.Cosine };
                source = $"project's own schedule for {dataset} (the papers give none): SGD 0.9, lr 0.05 cosine, batch 128, wd 5e-4, 10 epochs";
                break;
        }
        if (name == "paper") return new Preset(paper, 1.0, null, source);
        if (name != "cpu") throw new UsageException($"--preset '{name}': expected one of {string.Join(", ", Names)}");

        // CPU: a few epochs, milestones moved proportionally, narrow models on the big sets.
        int epochs = dataset is "fashion-mnist" or "mnist" ? 2 : Math.Max(2, paper.Epochs / 40);
        int[] milestones = paper.Milestones.Select(m => Math.Max(1, (int)Math.Round((double)m * epochs / paper.Epochs))).Distinct().ToArray();
        bool big = model is not ("lenet5" or "mlp") && !model.StartsWith("onnx:", StringComparison.Ordinal);   // an imported network keeps its widths
        double width = big ? 0.25 : 1.0;
        int? subset = dataset is "cifar10" or "tiny-imagenet" ? 10000 : null;
        var cpu = paper with
        {
            Epochs = epochs, Milestones = milestones,
            Schedule = paper.Schedule == ScheduleKind.MultiStep ? ScheduleKind.Cosine : paper.Schedule,
            BatchSize = Math.Max(paper.BatchSize, 64),
        };
        string notes = $"CPU preset, scaled down from the {source}: {epochs} epochs (cosine), batch {cpu.BatchSize}" +
                       (big ? ", width x0.25" : "") + (subset is int s ? $", {s} training images" : "");
        return new Preset(cpu, width, subset, notes);
    }
}
