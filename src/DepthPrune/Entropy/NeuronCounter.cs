using DepthPrune.Models;
using static TorchSharp.torch;

namespace DepthPrune.Entropy;

/// <summary>Streams ON counts (z >= 0) per neuron of one activation: no activation is stored.
/// Also sums per-batch layer entropies for the batch-mean estimator.</summary>
public sealed class NeuronCounter(long neurons) : IActivationObserver, IDisposable
{
    readonly long[] on = new long[neurons];
    double batchEntropySum;
    long perNeuron;
    int batches;

    public void Observe(Tensor z, int channelDim)
    {
        using var scope = NewDisposeScope();
        int dim = channelDim < 0 ? (int)z.dim() + channelDim : channelDim;
        // One compare and one integer reduction over the activation; the per-neuron arithmetic
        // happens on the C counts in managed code (cheaper than a dozen tiny tensor kernels).
        // Neurons last: rows x C. Channels in dim d: [outer, C, inner], reduced over the contiguous
        // inner part first (int32 is exact: one batch never holds 2^31 values per neuron).
        long outer = z.shape.Take(dim).Aggregate(1L, (a, b) => a * b);
        var isOn = z.ge(0);
        var counts = dim == z.dim() - 1
            ? isOn.reshape(-1, neurons).sum(0, type: ScalarType.Int64)
            : isOn.reshape(outer, neurons, -1).sum(2, type: ScalarType.Int32).sum(0, type: ScalarType.Int64);
        long[] batch = counts.cpu().data<long>().ToArray();
        long n = z.numel() / neurons;
        double bits = 0;
        for (int i = 0; i < batch.Length; i++)
        {
            on[i] += batch[i];
            bits += NeuronEntropy.Bits((double)batch[i] / n);
        }
        batchEntropySum += bits / batch.Length;
        perNeuron += n;
        batches++;
    }

    public LayerEntropy Result(string name, EntropyEstimator estimator)
    {
        if (perNeuron == 0) throw new InvalidOperationException($"{name}: no observations (did the probe see any batch?)");
        double[] p = on.Select(c => (double)c / perNeuron).ToArray();
        double[] bits = p.Select(NeuronEntropy.Bits).ToArray();
        int alwaysOn = on.Count(c => c == perNeuron), alwaysOff = on.Count(c => c == 0);
        double dataset = bits.Average();
        double nonConstant = bits.Where((_, i) => on[i] != 0 && on[i] != perNeuron).DefaultIfEmpty(0).Average();
        double batchMean = batchEntropySum / batches;
        double chosen = estimator switch
        {
            EntropyEstimator.BatchMean => batchMean,
            EntropyEstimator.NonConstant => nonConstant,
            _ => dataset,
        };
        return new LayerEntropy(name, p.Length, chosen, alwaysOn, alwaysOff, perNeuron, p, dataset, batchMean, nonConstant);
    }

    public void Dispose() { }
}
