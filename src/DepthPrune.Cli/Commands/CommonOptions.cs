using System.CommandLine;
using DepthPrune.Entropy;

namespace DepthPrune.Cli.Commands;

/// <summary>Options shared by many commands, built fresh per command (an option belongs to one parent).</summary>
public static class CommonOptions
{
    public static Option<string> Checkpoint() => PathOptions.InputFile("--checkpoint", "A checkpoint written by train or a method");

    /// <summary>A whole-number option that must be positive, refused by name otherwise.</summary>
    public static Option<int> Positive(string name, string description, int fallback) =>
        NumberOptions.WithDefault(name, description, fallback, v => v > 0, "must be positive");

    /// <summary>--tolerance-confidence with the given default (methods: the rule's; the demo: the point estimate).</summary>
    public static Option<double> ToleranceConfidence(double fallback) => NumberOptions.WithDefault("--tolerance-confidence",
        "Judge 'within --tolerance' on the lower bound, at this confidence, of top-1 minus dense on the same images (0.5: the point estimate, as the papers do)",
        fallback, v => v is >= 0.5 and < 1, "must lie in [0.5,1) (0.5: the point estimate)");

    public static Option<bool> Json() => new("--json") { Description = "Print one JSON document instead of text" };

    public static Option<string> Device() => new("--device")
    {
        Description = "cpu, cuda or auto",
        DefaultValueFactory = _ => "cpu",
    };

    public static Option<string> Estimator()
    {
        var option = new Option<string>("--estimator") { Description = "Entropy estimator: dataset, batch-mean or non-constant (every method probes entropy, to linearize layers that became constant)", DefaultValueFactory = _ => "dataset" };
        option.Validators.Add(r =>
        {
            if (ParseEstimator(r.GetValueOrDefault<string>()) is null)
                r.AddError($"--estimator '{r.GetValueOrDefault<string>()}': expected dataset, batch-mean or non-constant");
        });
        return option;
    }

    public static EntropyEstimator? ParseEstimator(string name) => name switch
    {
        "dataset" => EntropyEstimator.Dataset,
        "batch-mean" => EntropyEstimator.BatchMean,
        "non-constant" => EntropyEstimator.NonConstant,
        _ => null,
    };
}
