using System.CommandLine;
using DepthPrune.Training;

namespace DepthPrune.Cli.Commands;

/// <summary>Training flags; unset ones come from the preset for the (model, data set) pair.</summary>
public sealed class TrainArgs
{
    readonly Option<string> preset = new("--preset") { Description = "Schedule: paper (the papers' own) or cpu (scaled down, stated in the output)", DefaultValueFactory = _ => "cpu" };
    readonly Option<int?> epochs;
    readonly Option<int?> batchSize = new("--batch-size") { Description = "Mini-batch size (default: preset)" };
    readonly Option<string?> optimizer = new("--optimizer") { Description = "sgd, adam or adamw (default: preset)" };
    readonly Option<double?> lr = new("--lr") { Description = "Peak learning rate (default: preset)" };
    readonly Option<double?> momentum = new("--momentum") { Description = "SGD momentum (default: preset)" };
    readonly Option<bool> nesterov = new("--nesterov") { Description = "Nesterov momentum" };
    readonly Option<double?> weightDecay = new("--weight-decay") { Description = "Weight decay (default: preset)" };
    readonly Option<string?> schedule = new("--schedule") { Description = "constant, multistep or cosine (default: preset)" };
    readonly Option<int[]?> milestones = new("--milestones") { Description = "Epochs at which multistep multiplies the rate by --gamma", AllowMultipleArgumentsPerToken = true };
    readonly Option<double?> gamma = new("--gamma") { Description = "Multistep factor (default: preset)" };
    readonly Option<int> warmup = new("--warmup-epochs") { Description = "Linear warm-up epochs", DefaultValueFactory = _ => 0 };
    readonly Option<double> labelSmoothing = new("--label-smoothing") { Description = "Label smoothing", DefaultValueFactory = _ => 0.0 };
    readonly Option<double?> clip = new("--clip-grad-norm") { Description = "Clip the gradient norm to this value" };
    readonly Option<int> checkpointEvery = new("--checkpoint-every") { Description = "Also checkpoint every N batches (0: at epoch ends only)", DefaultValueFactory = _ => 200 };

    public TrainArgs(Command command, string epochsFlag = "--epochs", string epochsHelp = "Training epochs (default: preset)")
    {
        epochs = new Option<int?>(epochsFlag) { Description = epochsHelp };
        preset.Validators.Add(r => { if (!TrainPresets.Names.Contains(r.GetValueOrDefault<string>())) r.AddError($"--preset: expected one of {string.Join(", ", TrainPresets.Names)}"); });
        epochs.Validators.Add(r => { if (r.GetValueOrDefault<int?>() is < 0) r.AddError($"{epochsFlag}: must be >= 0"); });
        batchSize.Validators.Add(r => { if (r.GetValueOrDefault<int?>() is <= 0) r.AddError("--batch-size: must be positive"); });
        optimizer.Validators.Add(r => { if (r.GetValueOrDefault<string?>() is string s && s is not ("sgd" or "adam" or "adamw")) r.AddError($"--optimizer '{s}': expected sgd, adam or adamw"); });
        schedule.Validators.Add(r => { if (r.GetValueOrDefault<string?>() is string s && s is not ("constant" or "multistep" or "cosine")) r.AddError($"--schedule '{s}': expected constant, multistep or cosine"); });
        lr.Validators.Add(r => { if (r.GetValueOrDefault<double?>() is <= 0) r.AddError("--lr: must be positive"); });
        momentum.Validators.Add(r => { if (r.GetValueOrDefault<double?>() is < 0 or >= 1) r.AddError("--momentum: must lie in [0,1)"); });
        weightDecay.Validators.Add(r => { if (r.GetValueOrDefault<double?>() is < 0) r.AddError("--weight-decay: must be >= 0"); });
        labelSmoothing.Validators.Add(r => { if (r.GetValueOrDefault<double>() is < 0 or >= 1) r.AddError("--label-smoothing: must lie in [0,1)"); });
        gamma.Validators.Add(r => { if (r.GetValueOrDefault<double?>() is <= 0 or > 1) r.AddError("--gamma: must lie in (0,1]"); });
        clip.Validators.Add(r => { if (r.GetValueOrDefault<double?>() is <= 0) r.AddError("--clip-grad-norm: must be positive"); });
        checkpointEvery.Validators.Add(r => { if (r.GetValueOrDefault<int>() < 0) r.AddError("--checkpoint-every: must be >= 0"); });
        foreach (Option o in new Option[] { preset, epochs, batchSize, optimizer, lr, momentum, nesterov, weightDecay, schedule, milestones, gamma, warmup, labelSmoothing, clip, checkpointEvery })
            command.Options.Add(o);
    }

    public TrainPresets.Preset Preset(ParseResult parsed, string model, string dataset) =>
        TrainPresets.For(model, dataset, parsed.GetValue(preset)!);

    public TrainOptions Read(ParseResult parsed, TrainOptions fromPreset, int seed) => fromPreset with
    {
        Epochs = parsed.GetValue(epochs) ?? fromPreset.Epochs,
        BatchSize = parsed.GetValue(batchSize) ?? fromPreset.BatchSize,
        Optimizer = parsed.GetValue(optimizer) switch { "adam" => OptimizerKind.Adam, "adamw" => OptimizerKind.AdamW, "sgd" => OptimizerKind.Sgd, _ => fromPreset.Optimizer },
        LearningRate = parsed.GetValue(lr) ?? fromPreset.LearningRate,
        Momentum = parsed.GetValue(momentum) ?? fromPreset.Momentum,
        Nesterov = parsed.GetValue(nesterov) || fromPreset.Nesterov,
        WeightDecay = parsed.GetValue(weightDecay) ?? fromPreset.WeightDecay,
        Schedule = parsed.GetValue(schedule) switch { "constant" => ScheduleKind.Constant, "multistep" => ScheduleKind.MultiStep, "cosine" => ScheduleKind.Cosine, _ => fromPreset.Schedule },
        Milestones = parsed.GetValue(milestones) ?? fromPreset.Milestones,
        Gamma = parsed.GetValue(gamma) ?? fromPreset.Gamma,
        WarmupEpochs = parsed.GetValue(warmup),
        LabelSmoothing = parsed.GetValue(labelSmoothing),
        ClipGradNorm = parsed.GetValue(clip),
        CheckpointEveryBatches = parsed.GetValue(checkpointEvery),
        Seed = seed,
    };
}
