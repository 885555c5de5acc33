using System.Globalization;
using System.Numerics;
using DepthPrune.Entropy;

namespace DepthPrune.Methods;

/// <summary>One setting of a method run, declared once: its name (the CLI's flag without dashes
/// and the config file's key), help, default (MethodOptions'), valid range, which methods take it,
/// and (Recipe) what each recipe sets when it is not given. The CLI's options, the config reader,
/// validation and docs/METHODS.md's option list are made from <see cref="MethodSettings.All"/>.</summary>
public abstract record MethodSetting(string Name, string Property, string Help, IReadOnlyList<string>? Methods)
{
    public bool AppliesTo(string method) => Methods is null || Methods.Contains(method);
    /// <summary>The value in options, formatted as the command line takes it (null: unset).</summary>
    public abstract string? Format(MethodOptions options);
    /// <summary>Null when the value in options is valid, else what is expected of it.</summary>
    public abstract string? Problem(MethodOptions options);
    /// <summary>Whether a recipe sets it (the CLI then tells a given flag from a default).</summary>
    public bool RecipesSet => Recipe.Setting(Name).Any();
    public string? DefaultText => Format(MethodSettings.Defaults);
    /// <summary>Reads a value as the command line gives it: the options with it set, or what is wrong with the text.</summary>
    public abstract (MethodOptions? Options, string? Error) Apply(MethodOptions options, string text);
}

/// <summary>A setting refused by its rule; the library names the setting, the CLI its flag.</summary>
public sealed class InvalidSettingException(MethodSetting setting, string? value, string rule)
    : Runtime.UsageException($"{nameof(MethodOptions)}.{setting.Property} {value}: {rule}")
{
    public MethodSetting Setting => setting;
    public string? Value => value;
    public string Rule => rule;
}

/// <summary>A numeric setting (null: unset, for the settings that may be).</summary>
public sealed record NumberSetting<T>(string Name, string Property, string Help, IReadOnlyList<string>? Methods,
    Func<MethodOptions, T?> Read, Func<MethodOptions, T?, MethodOptions> Write, Func<T, bool> Valid, string Rule) : MethodSetting(Name, Property, Help, Methods)
    where T : struct, INumber<T>
{
    public override string? Format(MethodOptions options) => Read(options) is T v ? v.ToString(null, CultureInfo.InvariantCulture) : null;
    public override string? Problem(MethodOptions options) => Read(options) is T v && !(Valid(v) && double.IsFinite(double.CreateChecked(v))) ? Rule : null;

    public override (MethodOptions? Options, string? Error) Apply(MethodOptions options, string text)
    {
        if (Runtime.NumberText.Parse(text, out T value) is { } expected) return (null, expected);
        return Valid(value) ? (Write(options, value), null) : (null, $"{text}: {Rule}");
    }
}

/// <summary>A setting written as text: a choice among names, or a small structured value.</summary>
public sealed record TextSetting<T>(string Name, string Property, string Help, IReadOnlyList<string>? Methods,
    Func<MethodOptions, T> Read, Func<MethodOptions, T, MethodOptions> Write, Func<string, (bool Ok, T Value)> Parse, Func<T, string?> Show, string Expected, Func<T, bool>? Valid = null)
    : MethodSetting(Name, Property, Help, Methods)
{
    public override string? Format(MethodOptions options) => Show(Read(options));
    public override string? Problem(MethodOptions options) => Valid is null || Valid(Read(options)) ? null : Expected;

    public override (MethodOptions? Options, string? Error) Apply(MethodOptions options, string text) =>
        Parse(text) is (true, var value) ? (Write(options, value), null) : (null, $"'{text}': {Expected}");
}

/// <summary>The table of every method setting, in the order the CLI lists them.</summary>
public static class MethodSettings
{
    public static readonly MethodOptions Defaults = new();

    static readonly string[] Easier = ["easier"], Egp = ["egp", "nepenthe"], Pruners = ["egp", "nepenthe", "imp"], ByObjective = ["easier", "egp", "nepenthe"];

    /// <summary>Measured damage chooses EASIER's activations (entropy objective) or EGP/NEPENTHE's branch (latency objective).</summary>
    public static bool DamageApplies(string method, RemovalObjective objective) =>
        ByObjective.Contains(method) && (objective == RemovalObjective.Latency) == Egp.Contains(method);

    static TextSetting<T> Choice<T>(string name, string property, string help, IReadOnlyList<string>? methods, Func<MethodOptions, T> read,
        Func<MethodOptions, T, MethodOptions> write, params (string Name, T Value)[] choices) where T : struct, Enum => new(
        name, property, help, methods, read, write,
        text => choices.FirstOrDefault(c => c.Name == text) is { Name: not null } c ? (true, c.Value) : (false, default),
        value => choices.First(c => c.Value.Equals(value)).Name, $"expected {string.Join(", ", choices[..^1].Select(c => c.Name))} or {choices[^1].Name}");

    public static readonly IReadOnlyList<MethodSetting> All =
    [
        new NumberSetting<int>("finetune-epochs", "Finetune.Epochs", "Fine-tuning epochs after each iteration", null,
            o => o.Finetune.Epochs, (o, v) => o with { Finetune = o.Finetune with { Epochs = v!.Value } }, v => v >= 0, "must be >= 0"),
        new NumberSetting<double>("tolerance", nameof(MethodOptions.Tolerance), "Stop when top-1 falls more than this many points below dense", null,
            o => o.Tolerance, (o, v) => o with { Tolerance = v!.Value }, v => v >= 0, "must be >= 0 (top-1 points)"),
        new NumberSetting<double>("tolerance-confidence", nameof(MethodOptions.ToleranceConfidence),
            "Judge 'within --tolerance' on the lower bound, at this confidence, of top-1 minus dense on the same images (0.5: the point estimate, as the papers do)", null,
            o => o.ToleranceConfidence, (o, v) => o with { ToleranceConfidence = v!.Value }, v => v is >= 0.5 and < 1, "must lie in [0.5,1) (0.5: the point estimate)"),
        new NumberSetting<int>("max-iterations", nameof(MethodOptions.MaxIterations), "Stop after N iterations (0: no limit)", null,
            o => o.MaxIterations, (o, v) => o with { MaxIterations = v!.Value }, v => v >= 0, "must be >= 0"),
        Choice("estimator", nameof(MethodOptions.Estimator), "Entropy estimator: dataset, batch-mean or non-constant (every method probes entropy, to linearize layers that became constant)", null,
            o => o.Estimator, (o, v) => o with { Estimator = v },
            ("dataset", EntropyEstimator.Dataset), ("batch-mean", EntropyEstimator.BatchMean), ("non-constant", EntropyEstimator.NonConstant)),
        new NumberSetting<double>("prune-ratio", nameof(MethodOptions.PruneRatio), "zeta: fraction of the remaining weights pruned per iteration", Pruners,
            o => o.PruneRatio, (o, v) => o with { PruneRatio = v!.Value }, v => v is > 0 and < 1, "must lie in (0,1)"),
        new NumberSetting<double>("share-temperature", nameof(MethodOptions.ShareTemperature),
            "EGP/NEPENTHE: tau in the budget softmax((sum I)/(I_l tau)); 1 is the published rule, below 1 concentrates the budget on the lowest-importance layers", Egp,
            o => o.ShareTemperature, (o, v) => o with { ShareTemperature = v!.Value }, v => v > 0, "must be positive"),
        Choice("objective", nameof(MethodOptions.Objective),
            "entropy: remove by entropy alone, as published; latency: prefer low-entropy removals that let folding save MACs (docs/METHODS.md)", ByObjective,
            o => o.Objective, (o, v) => o with { Objective = v }, ("entropy", RemovalObjective.Entropy), ("latency", RemovalObjective.Latency)),
        Choice("payoff", nameof(MethodOptions.Payoff),
            "EASIER with --objective latency: what a removal's fold saves, counted in macs, or onnxruntime: the folded network timed at batch 1 in ONNX Runtime against the current one (where MACs mislead: depthwise convs, per-node costs)", Easier,
            o => o.Payoff, (o, v) => o with { Payoff = v }, ("macs", PayoffMeasure.Macs), ("onnxruntime", PayoffMeasure.OnnxRuntime)),
        new NumberSetting<int>("damage-sample", nameof(MethodOptions.DamageSample),
            "Choose among the lowest-entropy candidates by the loss their removal costs on this many training images (0: entropy alone): EASIER with --objective entropy; EGP/NEPENTHE with --objective latency, which branch goes", ByObjective,
            o => o.DamageSample, (o, v) => o with { DamageSample = v!.Value }, v => v >= 0, "must be >= 0 (images)"),
        new NumberSetting<double>("fold-lambda", nameof(MethodOptions.FoldLambda), "Weight of the regulariser pulling PReLU slopes to 1", ["layerfold"],
            o => o.FoldLambda, (o, v) => o with { FoldLambda = v!.Value }, v => v >= 0, "must be >= 0"),
        new TextSetting<(double Temperature, double Alpha)?>("distill", nameof(MethodOptions.Distill),
            "Fine-tune with distillation from the dense model: T,alpha (e.g. 4,0.5): (1-alpha) CE + alpha T^2 KL of the softened outputs", null,
            o => o.Distill, (o, v) => o with { Distill = v }, ParseDistill,
            v => v is { } d ? FormattableString.Invariant($"{d.Temperature},{d.Alpha}") : null, "expected T,alpha with T > 0 and alpha in [0,1], e.g. 4,0.5",
            v => v is null or { Temperature: > 0, Alpha: >= 0 and <= 1 }),
        new NumberSetting<double>("early-stop", nameof(MethodOptions.EarlyStop),
            "End each fine-tune once validation top-1 is back within this fraction of --tolerance below dense (checked every --early-stop-every epochs; --finetune-epochs is the cap)", null,
            o => o.EarlyStop, (o, v) => o with { EarlyStop = v }, v => v is >= 0 and <= 1, "must lie in [0,1] (a fraction of --tolerance)"),
        new NumberSetting<double>("early-stop-every", nameof(MethodOptions.EarlyStopEvery), "Epochs between the recovery checks of --early-stop", null,
            o => o.EarlyStopEvery, (o, v) => o with { EarlyStopEvery = v!.Value }, v => v > 0, "must be positive (epochs)"),
        new NumberSetting<int>("probe-sample", nameof(MethodOptions.ProbeSample),
            "Measure entropy on this many training images first, doubled while the lowest layers are not separated within a 95% bound (0: the whole training split)", null,
            o => o.ProbeSample, (o, v) => o with { ProbeSample = v!.Value }, v => v >= 0, "must be >= 0 (images)"),
        new NumberSetting<int>("final-epochs", nameof(MethodOptions.FinalEpochs),
            "Fine-tune the best model this many more epochs at the end, kept only if the stopping split's top-1 does not fall (0: none)", null,
            o => o.FinalEpochs, (o, v) => o with { FinalEpochs = v!.Value }, v => v >= 0, "must be >= 0"),
        new NumberSetting<int>("max-removals", nameof(MethodOptions.MaxRemovals),
            "EASIER: removals one iteration may take when their entropies are clearly lowest (1: as published); an iteration that leaves the tolerance with several is rolled back and retried with half as many", Easier,
            o => o.MaxRemovals, (o, v) => o with { MaxRemovals = v!.Value }, v => v >= 1, "must be >= 1"),
        new NumberSetting<int>("retries", nameof(MethodOptions.Retries),
            "EASIER, and EGP/NEPENTHE under --objective latency: removals that may leave the tolerance, be undone and their activation (the residual branch) kept while the next is tried, before the run stops (0: as published)", ByObjective,
            o => o.Retries, (o, v) => o with { Retries = v!.Value }, v => v >= 0, "must be >= 0"),
    ];

    static (bool, (double, double)?) ParseDistill(string text)
    {
        var parts = text.Split(',');
        var invariant = CultureInfo.InvariantCulture;
        if (parts.Length == 2 && double.TryParse(parts[0], invariant, out double t) && double.TryParse(parts[1], invariant, out double alpha)
            && t > 0 && double.IsFinite(t) && alpha is >= 0 and <= 1)
            return (true, (t, alpha));
        return (false, null);
    }

    public static MethodSetting Named(string name) => All.FirstOrDefault(s => s.Name == name) ?? throw new ArgumentException($"no method setting '{name}'", nameof(name));

    /// <summary>Every setting's rule checked on options; the first refused one throws, naming it.</summary>
    public static void Validate(MethodOptions options, IReadOnlyList<MethodSetting>? table = null)
    {
        foreach (var setting in table ?? All)
            if (setting.Problem(options) is { } rule) throw new InvalidSettingException(setting, setting.Format(options), rule);
    }
}
