using DepthPrune.Models;
using static TorchSharp.torch;

namespace DepthPrune.Entropy;

/// <summary>Streams ON counts (z >= 0) per neuron of one activation into an on-device
/// accumulator: no activation is stored and nothing leaves the device until the result. The
/// batch-mean estimator needs each batch's counts, so only then are they read back per batch.</summary>
public sealed class NeuronCounter(long neurons, bool batchMean = false) : IActivationObserver, IDisposable
{
    Tensor? on;
    double batchEntropySum;
    long perNeuron;
    int batches;

    public void Observe(Tensor z, int channelDim)
    {
        using var scope = NewDisposeScope();
        int dim = channelDim < 0 ? (int)z.dim() + channelDim : channelDim;
        // Neurons last: rows x C. Channels in dim d: [outer, C, inner], reduced over the contiguous
        // inner part first (int32 is exact within a batch).
        long outer = z.shape.Take(dim).Aggregate(1L, (a, b) => a * b);
        var isOn = z.ge(0);
        var counts = dim == z.dim() - 1
            ? isOn.reshape(-1, neurons).sum(0, type: ScalarType.Int64)
            : isOn.reshape(outer, neurons, -1).sum(2, type: ScalarType.Int32).sum(0, type: ScalarType.Int64);
        long n = z.numel() / neurons;
        if (batchMean)
        {
            long[] batch = counts.cpu().data<long>().ToArray();
            batchEntropySum += batch.Average(c => NeuronEntropy.Bits((double)c / n));
        }
        if (on is null) on = counts.DetachFromDisposeScope();
        else on.add_(counts);
        perNeuron += n;
        batches++;
    }

    public LayerEntropy Result(string name, EntropyEstimator estimator)
    {
        if (on is null || perNeuron == 0) throw new InvalidOperationException($"{name}: no observations (did the probe see any batch?)");
        long[] counts = on.cpu().data<long>().ToArray();
        double[] p = counts.Select(c => (double)c / perNeuron).ToArray();
        double[] bits = p.Select(NeuronEntropy.Bits).ToArray();
        int alwaysOn = counts.Count(c => c == perNeuron), alwaysOff = counts.Count(c => c == 0);
        double dataset = bits.Average();
        double nonConstant = bits.Where((_, i) => counts[i] != 0 && counts[i] != perNeuron).DefaultIfEmpty(0).Average();
        double? batchMeanBits = batchMean ? batchEntropySum / batches : null;
        double chosen = estimator switch
        {
            EntropyEstimator.BatchMean => batchMeanBits ?? throw new InvalidOperationException($"{name}: batch-mean was not counted"),
            EntropyEstimator.NonConstant => nonConstant,
            _ => dataset,
        };
        return new LayerEntropy(name, p.Length, chosen, alwaysOn, alwaysOff, perNeuron, p, dataset, batchMeanBits, nonConstant);
    }

    public void Dispose() => on?.Dispose();
}
