using System.CommandLine;
using DepthPrune.Data;
using DepthPrune.Models;
using DepthPrune.Training;

namespace DepthPrune.Cli.Commands;

/// <summary>Flags resolved against the preset of the (model, data set) pair: explicit flags win.</summary>
public sealed record JobSetup(string ModelName, DataOptions Data, TrainOptions Train, TrainPresets.Preset Preset, Func<DataBundle, ModelOptions> ModelOptionsFor, Func<DataBundle, ZooModel> CreateModel)
{
    /// <summary>held: the model a checkpoint holds, which decides the preset (the flags only check it).</summary>
    public static JobSetup Resolve(ParseResult parsed, ModelArgs modelArgs, DataArgs dataArgs, TrainArgs trainArgs, int seed, string? held = null)
    {
        var data = dataArgs.Read(parsed, seed);
        string modelName = held ?? modelArgs.Name(parsed);
        var preset = trainArgs.Preset(parsed, modelName, data.Dataset);
        if (data.TrainSubset is null && preset.TrainSubset is int subset) data = data with { TrainSubset = subset };
        return new JobSetup(modelName, data, trainArgs.Read(parsed, preset.Options, seed), preset,
            bundle => modelArgs.Options(parsed, bundle.Classes, bundle.SampleShape, preset.Width),
            bundle => modelArgs.Create(parsed, bundle.Classes, bundle.SampleShape, preset.Width));
    }
}
