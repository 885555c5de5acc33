using DepthPrune.Models;
using static TorchSharp.torch;

namespace DepthPrune.Entropy;

/// <summary>Streams ON counts (z >= 0) per neuron of one activation: no activation is stored.
/// Also sums per-batch layer entropies for the batch-mean estimator. All on the model's device.</summary>
public sealed class NeuronCounter(long neurons) : IActivationObserver, IDisposable
{
    Tensor? on;
    Tensor? batchEntropySum;
    long perNeuron;
    int batches;

    public void Observe(Tensor z, int channelDim)
    {
        using var scope = NewDisposeScope();
        int dim = channelDim < 0 ? (int)z.dim() + channelDim : channelDim;
        var others = Enumerable.Range(0, (int)z.dim()).Where(d => d != dim).Select(d => (long)d).ToArray();
        var counts = z.ge(0).sum(others, type: ScalarType.Float64);
        long n = z.numel() / neurons;
        var p = counts.div(n);
        var h = p.clamp(1e-12, 1 - 1e-12);
        var bits = h.mul(h.log2()).add(h.neg().add(1).mul(h.neg().add(1).log2())).neg()
            .masked_fill(p.le(0).logical_or(p.ge(1)), 0.0).mean();
        on = on is null ? counts.DetachFromDisposeScope() : on.add_(counts);
        batchEntropySum = batchEntropySum is null ? bits.DetachFromDisposeScope() : batchEntropySum.add_(bits);
        perNeuron += n;
        batches++;
    }

    public LayerEntropy Result(string name, EntropyEstimator estimator)
    {
        if (on is null || perNeuron == 0) throw new InvalidOperationException($"{name}: no observations (did the probe see any batch?)");
        double[] counts = on.cpu().data<double>().ToArray();
        double[] p = counts.Select(c => c / perNeuron).ToArray();
        double[] bits = p.Select(NeuronEntropy.Bits).ToArray();
        int alwaysOn = counts.Count(c => c == perNeuron), alwaysOff = counts.Count(c => c == 0);
        double dataset = bits.Average();
        double nonConstant = bits.Where((_, i) => counts[i] != 0 && counts[i] != perNeuron).DefaultIfEmpty(0).Average();
        double batchMean = batchEntropySum!.cpu().item<double>() / batches;
        double chosen = estimator switch
        {
            EntropyEstimator.BatchMean => batchMean,
            EntropyEstimator.NonConstant => nonConstant,
            _ => dataset,
        };
        return new LayerEntropy(name, p.Length, chosen, alwaysOn, alwaysOff, perNeuron, p, dataset, batchMean, nonConstant);
    }

    public void Dispose()
    {
        on?.Dispose();
        batchEntropySum?.Dispose();
    }
}
