using System.CommandLine;
using DepthPrune.Data;
using DepthPrune.Runtime;
using DepthPrune.Training;

namespace DepthPrune.Cli.Commands;

/// <summary>A checkpoint and the data set it is measured on: the one it was trained on unless
/// --dataset is given, refused by name when its images do not fit the model.</summary>
sealed class CheckpointOnData : IDisposable
{
    public required Compute Compute { get; init; }
    public required Checkpoint.Loaded Loaded { get; init; }
    public required DataBundle Data { get; init; }

    public static CheckpointOnData Open(ParseResult parsed, Option<string> checkpoint, DataArgs dataArgs, Option<string> device)
    {
        var compute = Compute.Parse(parsed.GetValue(device)!);
        var loaded = Checkpoint.Load(parsed.GetValue(checkpoint)!, compute);
        try
        {
            var options = dataArgs.Read(parsed, seed: loaded.Meta.Data?.Seed ?? 0);
            // The checkpoint's own data set and cut unless --dataset names another; data flags typed still apply.
            if (!parsed.WasGiven(dataArgs.DatasetOption) && loaded.Meta.Data is not null)
                options = dataArgs.Over(parsed, loaded.Meta.Data);
            var data = DataBundle.Load(options);
            var model = loaded.Model.Options;
            long[] shape = data.SampleShape;
            if (!shape.SequenceEqual(new long[] { model.InChannels, model.InputSize, model.InputSize }))
            {
                data.Dispose();
                throw new UsageException($"--dataset {options.Dataset}: images are [{string.Join(",", shape)}], the checkpoint's model takes [{model.InChannels},{model.InputSize},{model.InputSize}]");
            }
            if (data.Classes != model.Classes)
            {
                data.Dispose();
                throw new UsageException($"--dataset {options.Dataset}: {data.Classes} classes, the checkpoint's model has {model.Classes} outputs");
            }
            return new CheckpointOnData { Compute = compute, Loaded = loaded, Data = data };
        }
        catch
        {
            loaded.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Data.Dispose();
        Loaded.Dispose();
    }
}
