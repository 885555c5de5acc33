using DepthPrune.Models;
using DepthPrune.Runtime;
using static TorchSharp.torch;

namespace DepthPrune.Entropy;

/// <summary>Streams ON counts (z >= 0) per neuron of one activation: no activation is stored.
/// CPU float32 activations are counted in place by <see cref="OnCountKernel"/>; others (GPU,
/// other dtypes) with one compare and reduction on their device, read back only at the end
/// (or per batch when the batch-mean estimator needs each batch's counts).</summary>
public sealed class NeuronCounter(long neurons, bool batchMean = false) : IActivationObserver, IDisposable
{
    readonly long[] hostOn = new long[neurons];
    Tensor? deviceOn;
    double batchEntropySum;
    long perNeuron;
    int batches;

    public void Observe(Tensor z, int channelDim)
    {
        int dim = channelDim < 0 ? (int)z.dim() + channelDim : channelDim;
        // Viewed as [outer, neurons, inner]; channels-last layouts have inner = 1.
        long outer = z.shape.Take(dim).Aggregate(1L, (a, b) => a * b);
        long inner = z.numel() / (outer * neurons);
        long[]? batch = null;
        // A channels-last [N,C,H,W] is a contiguous [N,H,W,C] seen through a permute: the same
        // counts read in place as [N*H*W, C, 1].
        using var nhwc = dim == 1 && MemoryLayout.IsChannelsLast(z) ? z.permute(0, 2, 3, 1) : null;
        if (nhwc is not null) (outer, inner) = (outer * inner, 1);
        if (OnCountKernel.Supports(nhwc ?? z))
        {
            batch = new long[neurons];
            OnCountKernel.Accumulate(nhwc ?? z, outer, inner, batch);
            for (int c = 0; c < batch.Length; c++) hostOn[c] += batch[c];
        }
        else
        {
            using var scope = NewDisposeScope();
            // int32 is exact within a batch; the running total is int64.
            var counts = (nhwc ?? z).ge(0).reshape(outer, neurons, inner).sum(2, type: ScalarType.Int32).sum(0, type: ScalarType.Int64);
            if (batchMean) batch = counts.cpu().data<long>().ToArray();
            if (deviceOn is null) deviceOn = counts.DetachFromDisposeScope();
            else deviceOn.add_(counts);
        }
        long n = outer * inner;
        if (batchMean) batchEntropySum += batch!.Average(c => NeuronEntropy.Bits((double)c / n));
        perNeuron += n;
        batches++;
    }

    public LayerEntropy Result(string name, EntropyEstimator estimator)
    {
        if (perNeuron == 0) throw new InvalidOperationException($"{name}: no observations (did the probe see any batch?)");
        long[] counts = (long[])hostOn.Clone();
        if (deviceOn is not null)
        {
            long[] onDevice = deviceOn.cpu().data<long>().ToArray();
            for (int c = 0; c < counts.Length; c++) counts[c] += onDevice[c];
        }
        return FromCounts(name, counts, perNeuron, estimator, batchMean ? batchEntropySum / batches : null);
    }

    /// <summary>A layer's entropies from its neurons' ON counts out of perNeuron observations each.</summary>
    public static LayerEntropy FromCounts(string name, long[] counts, long perNeuron, EntropyEstimator estimator, double? batchMeanBits = null)
    {
        double[] p = counts.Select(c => (double)c / perNeuron).ToArray();
        double[] bits = p.Select(NeuronEntropy.Bits).ToArray();
        int alwaysOn = counts.Count(c => c == perNeuron), alwaysOff = counts.Count(c => c == 0);
        double dataset = bits.Average();
        double nonConstant = bits.Where((_, i) => counts[i] != 0 && counts[i] != perNeuron).DefaultIfEmpty(0).Average();
        double chosen = estimator switch
        {
            EntropyEstimator.BatchMean => batchMeanBits ?? throw new InvalidOperationException($"{name}: batch-mean was not counted"),
            EntropyEstimator.NonConstant => nonConstant,
            _ => dataset,
        };
        return new LayerEntropy(name, p.Length, chosen, alwaysOn, alwaysOff, perNeuron, p, dataset, batchMeanBits, nonConstant);
    }

    public void Dispose() => deviceOn?.Dispose();
}
