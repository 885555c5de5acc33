using System.CommandLine;
using DepthPrune.Data;

namespace DepthPrune.Cli.Commands;

/// <summary>The data-set flags shared by every command that reads data.</summary>
public sealed class DataArgs
{
    readonly Option<string> dataset = new("--dataset")
    {
        Description = "Data set: " + string.Join(", ", DatasetPresets.All.Select(p => p.Name)),
        DefaultValueFactory = _ => "fashion-mnist",
    };
    readonly Option<string?> data = PathOptions.InputFolder("--data", "Directory of the data set (default: the preset's own location, if it has one)");
    readonly Option<int?> trainSubset = NumberOptions.Optional<int>("--train-subset", "Use only N training images (seeded choice)", v => v > 0, "must be a positive count");
    // Held out by default, so method runs stop on validation and a dense model from `train` never saw the images a method run on it is judged on.
    readonly Option<double> valSplit = NumberOptions.WithDefault("--val-split", "Fraction of train held out for validation (method runs stop on it; 0: stop on the test split)", 0.1, v => v is >= 0 and < 1, "must lie in [0,1)");
    readonly Option<int?> imageSize = NumberOptions.Optional<int>("--image-size", "Crop size for image-folder sets (default 224 for transfer sets, native size otherwise)", v => v is > 0 and <= 4096, "need 1 to 4096");
    readonly Option<string?> testDomain = new("--test-domain") { Description = "PACS/VLCS: the domain held out as test set" };

    public Option<string> DatasetOption => dataset;

    public DataArgs(Command command)
    {
        dataset.Validators.Add(r =>
        {
            string name = r.GetValueOrDefault<string>();
            if (DatasetPresets.All.All(p => p.Name != name))
                r.AddError($"--dataset '{name}': unknown; expected one of {string.Join(", ", DatasetPresets.All.Select(p => p.Name))}");
        });
        foreach (Option option in new Option[] { dataset, data, trainSubset, valSplit, imageSize, testDomain }) command.Options.Add(option);
    }

    public string? Directory(ParseResult parsed) => parsed.GetValue(data);

    /// <summary>A checkpoint's own data set and cut, with every data flag typed on the command line on top.</summary>
    public DataOptions Over(ParseResult parsed, DataOptions saved) => saved with
    {
        Directory = parsed.WasGiven(data) ? parsed.GetValue(data) : saved.Directory,
        TrainSubset = parsed.WasGiven(trainSubset) ? parsed.GetValue(trainSubset) : saved.TrainSubset,
        ValidationFraction = parsed.WasGiven(valSplit) ? parsed.GetValue(valSplit) : saved.ValidationFraction,
        ImageSize = parsed.WasGiven(imageSize) ? parsed.GetValue(imageSize) : saved.ImageSize,
        TestDomain = parsed.WasGiven(testDomain) ? parsed.GetValue(testDomain) : saved.TestDomain,
    };

    public DataOptions Read(ParseResult parsed, int seed) => new(
        parsed.GetValue(dataset)!, parsed.GetValue(data), parsed.GetValue(trainSubset), parsed.GetValue(valSplit),
        seed, parsed.GetValue(imageSize), parsed.GetValue(testDomain));
}
