using DepthPrune.Data;
using DepthPrune.Models;
using DepthPrune.Runtime;

namespace DepthPrune.Entropy;

/// <summary>Where a layer's entropy over the whole training split lies, given a sample of it.</summary>
public sealed record EntropyBound(double Lower, double Upper)
{
    public static EntropyBound Exact(double h) => new(h, h);
}

/// <summary>Entropy measured on a random sample of the training images, grown (doubled) only
/// while the lowest layers are not separated from the rest, with a bound that holds for every
/// neuron of every layer at once with probability at least 1 - Delta.
/// Why it holds: a neuron's ON fraction in one image (over its positions) is a value in [0,1],
/// so by Hoeffding's inequality (valid for sampling without replacement) the sample mean of n
/// images lies within eps = sqrt(ln(2N/Delta) / 2n) of the training split's, for all N neurons
/// together by the union bound. H is concave, so over [p - eps, p + eps] it is smallest at an end
/// and largest at the point nearest 1/2; a layer's H_l, the mean over its neurons, lies between
/// the means of those extremes. Only the dataset estimator (the mean of per-neuron H) is bounded.</summary>
public static class SampledEntropy
{
    public const double Delta = 0.05;

    public sealed record Result(IReadOnlyList<LayerEntropy> Entropies, IReadOnlyDictionary<string, EntropyBound> Bounds, long ImagesProbed, int SampleSize);

    public static double Epsilon(long images, long neurons, double delta = Delta) =>
        Math.Sqrt(Math.Log(2.0 * neurons / delta) / (2.0 * images));

    public static EntropyBound Bound(IReadOnlyList<double> onFractions, double epsilon)
    {
        if (epsilon <= 0) return EntropyBound.Exact(onFractions.Average(NeuronEntropy.Bits));
        double lower = 0, upper = 0;
        foreach (double p in onFractions)
        {
            double a = Math.Max(0, p - epsilon), b = Math.Min(1, p + epsilon);
            lower += Math.Min(NeuronEntropy.Bits(a), NeuronEntropy.Bits(b));
            upper += NeuronEntropy.Bits(Math.Clamp(0.5, a, b));
        }
        return new EntropyBound(lower / onFractions.Count, upper / onFractions.Count);
    }

    /// <summary>How many of the lowest candidates (by estimate), at most max, are separated from
    /// the rest: every one's upper bound below every other's lower bound. 0 when not even the lowest is.</summary>
    public static int SeparatedPrefix(IReadOnlyList<(double Estimate, EntropyBound Bound)> candidates, int max)
    {
        var sorted = candidates.OrderBy(c => c.Estimate).ToList();
        int best = 0;
        for (int k = 1; k <= Math.Min(max, sorted.Count - 1); k++)
        {
            double highestTaken = sorted.Take(k).Max(c => c.Bound.Upper);
            double lowestLeft = sorted.Skip(k).Min(c => c.Bound.Lower);
            if (highestTaken < lowestLeft) best = k;
        }
        return sorted.Count == 1 ? Math.Min(1, max) : best;
    }

    /// <summary>Probes the first n images of a seeded permutation of the training split, from
    /// firstSample, doubling n until the lowest `wanted` non-linear layers are separated or the
    /// sample is the whole split (then the result is exact). firstSample 0 probes the whole split.</summary>
    public static Result Measure(ZooModel model, DataBundle data, Compute compute, int firstSample, int wanted, int seed,
        int batchSize = 256, EntropyEstimator estimator = EntropyEstimator.Dataset)
    {
        int total = data.Train.Count;
        if (firstSample <= 0 || firstSample >= total)
        {
            var all = EntropyProbe.Measure(model, data.ProbeLoader(batchSize, compute), estimator);
            return new Result(all, all.ToDictionary(e => e.Name, e => EntropyBound.Exact(e.Entropy)), total, total);
        }
        if (estimator != EntropyEstimator.Dataset)
            throw new UsageException($"--probe-sample: the error bound holds for the dataset estimator only, not --estimator {estimator}");
        var order = Seeding.Permutation(total, seed);
        IReadOnlyList<LayerEntropy>? entropies = null;
        // Each growth probes only the images it adds and merges their counts: never more than one whole pass.
        for (int n = firstSample, seen = 0; ; seen = n, n = Math.Min(total, 2 * n))
        {
            using var chunk = data.Train.Subset(order[seen..n], $"entropy sample {seen}-{n}");
            var added = EntropyProbe.Measure(model, new BatchLoader(chunk, batchSize, data.EvalPipeline, shuffle: false, 0, compute), estimator);
            entropies = entropies is null ? added : entropies.Zip(added, Merge).ToList();
            double epsilon = n == total ? 0 : Epsilon(n, entropies.Sum(e => (long)e.Neurons));
            var bounds = entropies.ToDictionary(e => e.Name, e => Bound(e.OnFraction, epsilon));
            var candidates = entropies.Where(e => !model.Slots[e.Name].IsLinear && !e.IsZero).Select(e => (e.Entropy, bounds[e.Name])).ToList();
            if (n == total || candidates.Count == 0 || SeparatedPrefix(candidates, wanted) >= Math.Min(wanted, candidates.Count))
                return new Result(entropies, bounds, n, n);
        }
    }

    /// <summary>One layer's counts over two disjoint sets of images, as one pass over both would give them (dataset estimator).</summary>
    public static LayerEntropy Merge(LayerEntropy a, LayerEntropy b)
    {
        long[] on = a.OnFraction.Select((p, i) => (long)Math.Round(p * a.ObservationsPerNeuron) + (long)Math.Round(b.OnFraction[i] * b.ObservationsPerNeuron)).ToArray();
        return NeuronCounter.FromCounts(a.Name, on, a.ObservationsPerNeuron + b.ObservationsPerNeuron, EntropyEstimator.Dataset);
    }
}
