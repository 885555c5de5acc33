using DepthPrune.Entropy;
using DepthPrune.Models;
using static TorchSharp.torch;

namespace DepthPrune.Tests.Entropy;

public class EntropyProbeTests
{
    /// <summary>Brute force: p_i from a plain loop over every value, H_i from the formula.</summary>
    static (double Layer, double[] P) BruteForce(IEnumerable<float[,]> batches)
    {
        double[]? on = null;
        long seen = 0;
        foreach (var values in batches)
        {
            int rows = values.GetLength(0), neurons = values.GetLength(1);
            on ??= new double[neurons];
            for (int r = 0; r < rows; r++)
                for (int i = 0; i < neurons; i++)
                    if (values[r, i] >= 0) on[i]++;
            seen += rows;
        }
        double[] p = on!.Select(c => c / seen).ToArray();
        double H(double q) => q is 0 or 1 ? 0 : -q * Math.Log2(q) - (1 - q) * Math.Log2(1 - q);
        return (p.Select(H).Average(), p);
    }

    [Fact]
    public void Binary_entropy_matches_hand_values()
    {
        Assert.Equal(0, NeuronEntropy.Bits(0));
        Assert.Equal(0, NeuronEntropy.Bits(1));
        Assert.Equal(1, NeuronEntropy.Bits(0.5), 12);
        Assert.Equal(0.811278124459133, NeuronEntropy.Bits(0.25), 12);   // -(1/4)log2(1/4) - (3/4)log2(3/4)
    }

    [Fact]
    public void Token_layout_counts_match_brute_force_with_all_on_all_off_and_mixed_neurons()
    {
        var random = new Random(3);
        var batches = new List<float[,]>();
        using var counter = new NeuronCounter(4);
        for (int b = 0; b < 3; b++)
        {
            // [2 samples, 5 tokens, 4 neurons]: neuron 0 always ON (incl. exact zeros), 1 always OFF, 2-3 mixed.
            var values = new float[10, 4];
            for (int r = 0; r < 10; r++)
            {
                values[r, 0] = r % 3 == 0 ? 0f : (float)random.NextDouble();
                values[r, 1] = -(float)random.NextDouble() - 0.01f;
                values[r, 2] = (float)random.NextDouble() - 0.3f;
                values[r, 3] = (float)random.NextDouble() - 0.7f;
            }
            batches.Add(values);
            using var z = tensor(values.Cast<float>().ToArray()).reshape(2, 5, 4);
            counter.Observe(z, -1);
        }
        var (expected, p) = BruteForce(batches);
        var result = counter.Result("tokens", EntropyEstimator.Dataset);
        Assert.Equal(expected, result.Entropy, 10);
        Assert.Equal(p, result.OnFraction);
        Assert.Equal(1, result.AlwaysOn);
        Assert.Equal(1, result.AlwaysOff);
        Assert.Equal(30, result.ObservationsPerNeuron);
        Assert.Equal(expected * 4 / 2, result.NonConstantEntropy, 10);   // mean over the two mixed neurons only
    }

    [Fact]
    public void Conv_layout_counts_every_spatial_position_of_every_sample()
    {
        // [B=2, C=3, H=2, W=2]; channel 0 all ON, channel 1 all OFF, channel 2 ON at 3 of 8 positions.
        var x = new float[2 * 3 * 4];
        for (int b = 0; b < 2; b++)
            for (int pos = 0; pos < 4; pos++)
            {
                x[b * 12 + 0 * 4 + pos] = 1;
                x[b * 12 + 1 * 4 + pos] = -1;
                x[b * 12 + 2 * 4 + pos] = b * 4 + pos < 3 ? 2 : -2;
            }
        using var counter = new NeuronCounter(3);
        using (var z = tensor(x).reshape(2, 3, 2, 2)) counter.Observe(z, 1);
        var result = counter.Result("conv", EntropyEstimator.Dataset);
        Assert.Equal(new[] { 1.0, 0.0, 3.0 / 8 }, result.OnFraction);
        Assert.Equal(NeuronEntropy.Bits(3.0 / 8) / 3, result.Entropy, 12);
        Assert.False(result.IsZero);
        Assert.Equal(new[] { 1f, 0f, 0f }, result.LinearMask());
    }

    [Fact]
    public void Batch_mean_estimator_averages_per_batch_layer_entropies()
    {
        using var counter = new NeuronCounter(1, batchMean: true);
        // Batch 1: p = 1/2 (H = 1); batch 2: p = 1 (H = 0). Batch mean 0.5; dataset p = 3/4.
        using (var a = tensor(new float[] { 1, -1 }).reshape(2, 1)) counter.Observe(a, -1);
        using (var b = tensor(new float[] { 1, 1 }).reshape(2, 1)) counter.Observe(b, -1);
        Assert.Equal(0.5, counter.Result("l", EntropyEstimator.BatchMean).Entropy, 12);
        Assert.Equal(NeuronEntropy.Bits(0.75), counter.Result("l", EntropyEstimator.Dataset).Entropy, 12);
    }

    [Fact]
    public void All_constant_layer_has_zero_entropy_and_is_zero()
    {
        using var counter = new NeuronCounter(2);
        using (var z = tensor(new float[] { 1, -1, 3, -2 }).reshape(2, 2)) counter.Observe(z, -1);
        var r = counter.Result("c", EntropyEstimator.Dataset);
        Assert.Equal(0, r.Entropy);
        Assert.True(r.IsZero);
        Assert.Equal(0, counter.Result("c", EntropyEstimator.NonConstant).Entropy);
    }

    [Fact]
    public void Slot_feeds_its_pre_activation_to_the_observer()
    {
        var slot = new ActivationSlot("s", ActivationKind.ReLU, 2, -1);
        using var counter = new NeuronCounter(2);
        slot.Observer = counter;
        using var z = tensor(new float[] { -1, 2, 3, -4 }).reshape(2, 2);
        using var y = slot.forward(z);
        Assert.Equal(new float[] { 0, 2, 3, 0 }, y.data<float>().ToArray());
        Assert.Equal(new[] { 0.5, 0.5 }, counter.Result("s", EntropyEstimator.Dataset).OnFraction);
    }
}
