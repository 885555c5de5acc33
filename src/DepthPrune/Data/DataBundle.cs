using DepthPrune.Data.Transforms;
using DepthPrune.Runtime;

namespace DepthPrune.Data;

/// <summary>A loaded data set: train (possibly a seeded subset), an optional validation split
/// carved from train, the test split, and the train/eval pipelines normalised with the
/// training set's own channel statistics.</summary>
public sealed class DataBundle : IDisposable
{
    public required string Name { get; init; }
    public required ImageSet Train { get; init; }
    public ImageSet? Validation { get; init; }
    public required ImageSet Test { get; init; }
    public required Pipeline TrainPipeline { get; init; }
    public required Pipeline EvalPipeline { get; init; }
    public required double[] Mean { get; init; }
    public required double[] Std { get; init; }

    public int Classes => Train.Classes.Count;
    public long[] SampleShape => Test.SampleShape;

    public BatchLoader TrainLoader(int batchSize, int seed, Compute compute) =>
        new(Train, batchSize, TrainPipeline, shuffle: true, seed, compute);

    /// <summary>The training images with eval transforms (for entropy probes: no augmentation).</summary>
    public BatchLoader ProbeLoader(int batchSize, Compute compute) =>
        new(Train, batchSize, EvalPipeline, shuffle: false, 0, compute);

    public BatchLoader EvalLoader(ImageSet set, int batchSize, Compute compute) =>
        new(set, batchSize, EvalPipeline, shuffle: false, 0, compute);

    public static DataBundle Load(DataOptions options) => DatasetPresets.Get(options.Dataset).Load(options);

    public void Dispose()
    {
        Train.Dispose();
        Validation?.Dispose();
        Test.Dispose();
    }
}
