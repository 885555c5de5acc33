using DepthPrune.Entropy;
using DepthPrune.Models;
using DepthPrune.Runtime;
using DepthPrune.Tests.Training;

namespace DepthPrune.Tests.Entropy;

public class SampledEntropyTests
{
    static double H(double p) => p <= 0 || p >= 1 ? 0 : -p * Math.Log2(p) - (1 - p) * Math.Log2(1 - p);

    [Fact]
    public void Epsilon_is_hoeffdings_with_a_union_bound_over_all_neurons()
    {
        // n = 1000 images, N = 100 neurons, delta = 0.05: sqrt(ln(4000) / 2000).
        Assert.Equal(Math.Sqrt(Math.Log(4000) / 2000), SampledEntropy.Epsilon(1000, 100), 12);
        Assert.Equal(0.0644, SampledEntropy.Epsilon(1000, 100), 4);
    }

    [Fact]
    public void The_bound_of_a_layer_is_worked_by_hand()
    {
        // Neuron 1 at p = 0.3, eps 0.1: H on [0.2, 0.4] runs from H(0.2) = 0.7219 to H(0.4) = 0.9710.
        // Neuron 2 at p = 0.55: [0.45, 0.65] holds 1/2, so the top is 1 and the bottom H(0.65) = 0.9341.
        // Neuron 3 at p = 0.02: [0, 0.12] gives 0 to H(0.12) = 0.5294.
        var b = SampledEntropy.Bound([0.3, 0.55, 0.02], 0.1);
        Assert.Equal((0.721928 + 0.934068 + 0) / 3, b.Lower, 5);
        Assert.Equal((0.970951 + 1 + 0.529361) / 3, b.Upper, 5);
        Assert.Equal(EntropyBound.Exact((H(0.3) + H(0.55) + H(0.02)) / 3), SampledEntropy.Bound([0.3, 0.55, 0.02], 0));
    }

    [Fact]
    public void The_bound_holds_on_simulated_samples_as_often_as_promised()
    {
        // A population of 5000 images; 20 neurons with per-image ON fractions spread around their own mean.
        var rng = new Random(3);
        int images = 5000, neurons = 20, sample = 200;
        var means = Enumerable.Range(0, neurons).Select(_ => rng.NextDouble()).ToArray();
        var perImage = new double[images, neurons];
        for (int i = 0; i < images; i++)
            for (int j = 0; j < neurons; j++) perImage[i, j] = Math.Clamp(means[j] + (rng.NextDouble() - 0.5) * 0.6, 0, 1);
        double truth = Enumerable.Range(0, neurons).Average(j => H(Enumerable.Range(0, images).Average(i => perImage[i, j])));
        int misses = 0, trials = 200;
        double eps = SampledEntropy.Epsilon(sample, neurons);
        for (int t = 0; t < trials; t++)
        {
            var pick = Enumerable.Range(0, images).OrderBy(_ => rng.Next()).Take(sample).ToArray();
            var p = Enumerable.Range(0, neurons).Select(j => pick.Average(i => perImage[i, j])).ToArray();
            var b = SampledEntropy.Bound(p, eps);
            if (truth < b.Lower || truth > b.Upper) misses++;
        }
        Assert.True(misses <= trials * SampledEntropy.Delta, $"{misses} of {trials} samples missed the bound");
    }

    [Fact]
    public void Separated_prefix_takes_the_lowest_layers_whose_bounds_clear_the_rest()
    {
        var c = new List<(double, EntropyBound)>
        {
            (0.50, new(0.45, 0.55)), (0.10, new(0.05, 0.15)), (0.20, new(0.12, 0.25)), (0.90, new(0.85, 0.95)),
        };
        // 0.10 overlaps 0.20, so the lowest alone is not separated; the two lowest are (0.25 < 0.45); three too (0.55 < 0.85).
        Assert.Equal(0, SampledEntropy.SeparatedPrefix(c, 1));
        Assert.Equal(2, SampledEntropy.SeparatedPrefix(c, 2));
        Assert.Equal(3, SampledEntropy.SeparatedPrefix(c, 4));
        Assert.Equal(1, SampledEntropy.SeparatedPrefix([(0.3, new EntropyBound(0.1, 0.5))], 3));
    }

    [Fact]
    public void A_sample_grows_until_the_lowest_layer_is_separated_and_the_whole_split_is_exact()
    {
        using var data = TestData.Quadrants(train: 256, size: 8);
        Seeding.Seed(4);
        using var model = ModelZoo.Create("mlp", new ModelOptions(Classes: 4, InChannels: 1, Width: 0.0625, InputSize: 8));
        var whole = SampledEntropy.Measure(model, data, Compute.Cpu, 0, 1, 0);
        var full = EntropyProbe.Measure(model, data.ProbeLoader(256, Compute.Cpu));
        Assert.Equal(full.Select(e => e.Entropy), whole.Entropies.Select(e => e.Entropy));
        Assert.Equal(256, whole.ImagesProbed);

        // On 32 images the bound is wide (eps > 0.3): the sample doubles until separated, or to the whole split (exact).
        var grown = SampledEntropy.Measure(model, data, Compute.Cpu, 32, 1, 0);
        Assert.True(grown.SampleSize > 32);
        Assert.Equal(grown.SampleSize, grown.ImagesProbed);   // growth probes only the images it adds
        // Merged chunk by chunk, the whole split gives what one pass gives.
        if (grown.SampleSize == 256) Assert.Equal(full.Select(e => e.Entropy), grown.Entropies.Select(e => e.Entropy));
        else Assert.All(grown.Entropies, e => Assert.InRange(full.First(f => f.Name == e.Name).Entropy, grown.Bounds[e.Name].Lower, grown.Bounds[e.Name].Upper));
    }

    [Fact]
    public void Counts_merged_from_two_parts_equal_one_pass_over_both()
    {
        using var data = TestData.Quadrants(train: 200, size: 16);
        Seeding.Seed(9);
        using var model = ModelZoo.Create("lenet5", new ModelOptions(Classes: 4, InChannels: 1, Width: 0.5, InputSize: 16));
        IReadOnlyList<LayerEntropy> Probe(DepthPrune.Data.ImageSet set) =>
            EntropyProbe.Measure(model, new DepthPrune.Data.BatchLoader(set, 64, data.EvalPipeline, shuffle: false, 0, Compute.Cpu));
        using var first = data.Train.Subset(Enumerable.Range(0, 70).Select(i => (long)i).ToList(), "first");
        using var rest = data.Train.Subset(Enumerable.Range(70, 130).Select(i => (long)i).ToList(), "rest");
        var merged = Probe(first).Zip(Probe(rest), SampledEntropy.Merge).ToList();
        var whole = Probe(data.Train);
        foreach (var (m, w) in merged.Zip(whole))
        {
            Assert.Equal(w.ObservationsPerNeuron, m.ObservationsPerNeuron);
            Assert.Equal(w.OnFraction, m.OnFraction);
            Assert.Equal(w.Entropy, m.Entropy, 12);
            Assert.Equal((w.AlwaysOn, w.AlwaysOff), (m.AlwaysOn, m.AlwaysOff));
        }
    }

    [Fact]
    public void Sampling_needs_the_dataset_estimator()
    {
        using var data = TestData.Quadrants(train: 64, size: 8);
        using var model = ModelZoo.Create("mlp", new ModelOptions(Classes: 4, InChannels: 1, Width: 0.0625, InputSize: 8));
        var e = Assert.Throws<UsageException>(() => SampledEntropy.Measure(model, data, Compute.Cpu, 16, 1, 0, estimator: EntropyEstimator.BatchMean));
        Assert.Contains("--probe-sample", e.Message);
    }
}
