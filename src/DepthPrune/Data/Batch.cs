using static TorchSharp.torch;

namespace DepthPrune.Data;

/// <summary>One mini-batch on the run's device; the consumer owns and disposes it.</summary>
public sealed record Batch(Tensor Inputs, Tensor Targets, int Index) : IDisposable
{
    public long Size => Targets.shape[0];
    public void Dispose() { Inputs.Dispose(); Targets.Dispose(); }
}
