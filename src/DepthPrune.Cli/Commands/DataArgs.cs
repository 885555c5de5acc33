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
    readonly Option<string?> data = new("--data") { Description = "Directory of the data set (default: the preset's own location, if it has one)" };
    readonly Option<int?> trainSubset = new("--train-subset") { Description = "Use only N training images (seeded choice)" };
    readonly Option<double> valSplit = new("--val-split") { Description = "Fraction of train held out for validation", DefaultValueFactory = _ => 0.0 };
    readonly Option<int?> imageSize = new("--image-size") { Description = "Crop size for image-folder sets (default 224 for transfer sets, native size otherwise)" };
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
        trainSubset.Validators.Add(r => { if (r.GetValueOrDefault<int?>() is <= 0) r.AddError("--train-subset: must be a positive count"); });
        valSplit.Validators.Add(r => { if (r.GetValueOrDefault<double>() is < 0 or >= 1) r.AddError("--val-split: must lie in [0,1)"); });
        imageSize.Validators.Add(r => { if (r.GetValueOrDefault<int?>() is <= 0) r.AddError("--image-size: must be positive"); });
        foreach (Option option in new Option[] { dataset, data, trainSubset, valSplit, imageSize, testDomain }) command.Options.Add(option);
    }

    public DataOptions Read(ParseResult parsed, int seed) => new(
        parsed.GetValue(dataset)!, parsed.GetValue(data), parsed.GetValue(trainSubset), parsed.GetValue(valSplit),
        seed, parsed.GetValue(imageSize), parsed.GetValue(testDomain));
}
