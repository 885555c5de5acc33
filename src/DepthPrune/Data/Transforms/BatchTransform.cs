using TorchSharp;
using static TorchSharp.torch;

namespace DepthPrune.Data.Transforms;

/// <summary>A transform of a float batch [B,C,H,W] (values in [0,1] before normalisation).
/// Random ones draw from the generator they are given, so a batch is reproducible from its seed.</summary>
public abstract class BatchTransform
{
    public abstract Tensor Apply(Tensor batch, Generator random);
    public abstract string Describe();

    /// <summary>One uniform draw per sample in [0,1), shaped [B,1,1,1] to broadcast over a batch.</summary>
    protected static Tensor PerSample(Tensor batch, Generator random) =>
        rand(new[] { batch.shape[0], 1L, 1L, 1L }, generator: random);
}

/// <summary>Transforms applied in order.</summary>
public sealed class Pipeline(IReadOnlyList<BatchTransform> steps)
{
    public IReadOnlyList<BatchTransform> Steps { get; } = steps;

    public Tensor Apply(Tensor batch, Generator random)
    {
        Tensor current = batch;
        foreach (BatchTransform step in Steps)
        {
            Tensor next = step.Apply(current, random);
            if (!ReferenceEquals(current, batch) && !ReferenceEquals(current, next)) current.Dispose();
            current = next;
        }
        return current;
    }

    public string Describe() => Steps.Count == 0 ? "none" : string.Join(" -> ", Steps.Select(s => s.Describe()));
}
