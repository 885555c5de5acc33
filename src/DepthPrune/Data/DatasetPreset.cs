using DepthPrune.Data.Transforms;
using DepthPrune.Runtime;

namespace DepthPrune.Data;

/// <summary>A named data set: how to read its files and which train/eval transforms the papers use.</summary>
public sealed record DatasetPreset(
    string Name,
    string Description,
    string? DefaultDirectory,
    Func<string, DataOptions, (ImageSet Train, ImageSet Test)> Read,
    Func<long[], DataOptions, IReadOnlyList<BatchTransform>> TrainAugment,
    Func<long[], DataOptions, IReadOnlyList<BatchTransform>> EvalResize)
{
    public DataBundle Load(DataOptions options)
    {
        string directory = options.Directory ?? DefaultDirectory
            ?? throw new UsageException($"--data: dataset '{Name}' has no default location; pass --data DIR");
        if (!Directory.Exists(directory))
            throw new UsageException(options.Directory is null
                ? $"--data: dataset '{Name}' not found at its default {directory}" + (Name == "fashion-mnist" ? " (install it: apt-get install dataset-fashion-mnist)" : "")
                : $"--data {directory}: directory not found");
        if (options.ValidationFraction is < 0 or >= 1)
            throw new UsageException($"--val-split {options.ValidationFraction}: must lie in [0,1)");
        if (options.TrainSubset is <= 0)
            throw new UsageException($"--train-subset {options.TrainSubset}: must be positive");

        var (fullTrain, test) = Read(directory, options);
        int fullCount = fullTrain.Count;
        var order = Enumerable.Range(0, fullCount).Select(i => (long)i).ToArray();
        new Random(Seeding.Derive(options.Seed, 7001)).Shuffle(order);
        // --train-subset picks the images used at all; --val-split holds a share of those out.
        long[] pool = options.TrainSubset is int subset && subset < fullCount ? order[..subset] : order;
        int validation = (int)Math.Round(pool.Length * options.ValidationFraction);
        long[] trainIdx = pool[validation..];
        if (trainIdx.Length == 0)
            throw new UsageException($"--val-split {options.ValidationFraction}: leaves no training images of {pool.Length}");
        ImageSet train = trainIdx.Length == fullCount ? fullTrain : fullTrain.Subset(trainIdx.Order().ToArray(), $"{trainIdx.Length} of {fullCount}");
        ImageSet? val = validation > 0 ? fullTrain.Subset(pool[..validation].Order().ToArray(), $"validation {validation}") : null;
        if (!ReferenceEquals(train, fullTrain)) fullTrain.Dispose();

        var (mean, std) = ChannelStats.Compute(train);
        long[] shape = train.SampleShape;
        var normalize = new Normalize(mean, std);
        return new DataBundle
        {
            Name = Name, Train = train, Validation = val, Test = test, Mean = mean, Std = std,
            TrainPipeline = new Pipeline([.. TrainAugment(shape, options), normalize]),
            EvalPipeline = new Pipeline([.. EvalResize(shape, options), normalize]),
        };
    }
}
