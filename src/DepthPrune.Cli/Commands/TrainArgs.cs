using System.CommandLine;
using DepthPrune.Training;

namespace DepthPrune.Cli.Commands;

/// <summary>Training flags; unset ones come from the preset for the (model, data set) pair.</summary>
public sealed class TrainArgs
{
    readonly Option<string> preset = new("--preset") { Description = "Schedule: paper (the papers' own) or cpu (scaled down, stated in the output)", DefaultValueFactory = _ => "cpu" };
    readonly Option<int?> epochs;
    readonly Option<int?> batchSize = NumberOptions.Optional<int>("--batch-size", "Mini-batch size (default: preset)", v => v > 0, "must be positive");
    readonly Option<string?> optimizer = new("--optimizer") { Description = "sgd, adam or adamw (default: preset)" };
    readonly Option<double?> lr = NumberOptions.Optional<double>("--lr", "Peak learning rate (default: preset)", v => v is > 0 and <= 100, "must lie in (0,100]");
    readonly Option<double?> momentum = NumberOptions.Optional<double>("--momentum", "SGD momentum (default: preset)", v => v is >= 0 and < 1, "must lie in [0,1)");
    readonly Option<bool> nesterov = new("--nesterov") { Description = "Nesterov momentum" };
    readonly Option<double?> weightDecay = NumberOptions.Optional<double>("--weight-decay", "Weight decay (default: preset)", v => v >= 0, "must be >= 0");
    readonly Option<string?> schedule = new("--schedule") { Description = "constant, multistep, cosine or restarts (cosine cycles of --restart-every epochs) (default: preset)" };
    readonly Option<double> restartEvery = NumberOptions.WithDefault("--restart-every", "Epochs in one cosine cycle of --schedule restarts", 1.0, v => v > 0, "must be positive (epochs)");
    readonly Option<int[]?> milestones = NumberOptions.List<int>("--milestones", "Epochs at which multistep multiplies the rate by --gamma", v => v > 0, "milestones are positive epochs");
    readonly Option<double?> gamma = NumberOptions.Optional<double>("--gamma", "Multistep factor (default: preset)", v => v is > 0 and <= 1, "must lie in (0,1]");
    readonly Option<int> warmup = NumberOptions.WithDefault("--warmup-epochs", "Linear warm-up epochs", 0, v => v >= 0, "must be >= 0");
    readonly Option<double> labelSmoothing = NumberOptions.WithDefault("--label-smoothing", "Label smoothing", 0.0, v => v is >= 0 and < 1, "must lie in [0,1)");
    readonly Option<double?> clip = NumberOptions.Optional<double>("--clip-grad-norm", "Clip the gradient norm to this value", v => v > 0, "must be positive");
    readonly Option<int> checkpointEvery = NumberOptions.WithDefault("--checkpoint-every", "Also checkpoint every N batches (0: at epoch ends only)", 200, v => v >= 0, "must be >= 0");

    public TrainArgs(Command command, string epochsFlag = "--epochs", string epochsHelp = "Training epochs (default: preset)")
    {
        epochs = NumberOptions.Optional<int>(epochsFlag, epochsHelp, v => v >= 0, "must be >= 0");
        preset.Validators.Add(r => { if (!TrainPresets.Names.Contains(r.GetValueOrDefault<string>())) r.AddError($"--preset: expected one of {string.Join(", ", TrainPresets.Names)}"); });
        optimizer.Validators.Add(r => { if (r.GetValueOrDefault<string?>() is string s && s is not ("sgd" or "adam" or "adamw")) r.AddError($"--optimizer '{s}': expected sgd, adam or adamw"); });
        schedule.Validators.Add(r => { if (r.GetValueOrDefault<string?>() is string s && ParseSchedule(s) is null) r.AddError($"--schedule '{s}': expected constant, multistep, cosine or restarts"); });
        foreach (Option o in new Option[] { preset, epochs, batchSize, optimizer, lr, momentum, nesterov, weightDecay, schedule, restartEvery, milestones, gamma, warmup, labelSmoothing, clip, checkpointEvery })
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
        Schedule = parsed.GetValue(schedule) is string s ? ParseSchedule(s)!.Value : fromPreset.Schedule,
        RestartEvery = parsed.GetValue(restartEvery),
        Milestones = parsed.GetValue(milestones) ?? fromPreset.Milestones,
        Gamma = parsed.GetValue(gamma) ?? fromPreset.Gamma,
        WarmupEpochs = parsed.GetValue(warmup),
        LabelSmoothing = parsed.GetValue(labelSmoothing),
        ClipGradNorm = parsed.GetValue(clip),
        CheckpointEveryBatches = parsed.GetValue(checkpointEvery),
        Seed = seed,
    };

    /// <summary>Refuses a schedule flag typed on a resumed run that differs from the run's own: the
    /// run continues the schedule it started (a new one would be neither run).</summary>
    public void RequireSameAs(ParseResult parsed, TrainOptions saved, string source)
    {
        var typed = Read(parsed, saved, saved.Seed);
        void Check(Option option, object now, object then)
        {
            if (parsed.WasGiven(option) && !now.Equals(then))
                throw new Runtime.UsageException($"{option.Name} {now}: {source} was started with {option.Name} {then}; resume with the run's own schedule (see its config.yaml), or start a new run");
        }
        Check(epochs, typed.Epochs, saved.Epochs);
        Check(batchSize, typed.BatchSize, saved.BatchSize);
        Check(lr, typed.LearningRate, saved.LearningRate);
        Check(optimizer, typed.Optimizer, saved.Optimizer);
        Check(schedule, typed.Schedule, saved.Schedule);
    }

    static ScheduleKind? ParseSchedule(string name) => name switch
    {
        "constant" => ScheduleKind.Constant,
        "multistep" => ScheduleKind.MultiStep,
        "cosine" => ScheduleKind.Cosine,
        "restarts" => ScheduleKind.Restarts,
        _ => null,
    };
}
