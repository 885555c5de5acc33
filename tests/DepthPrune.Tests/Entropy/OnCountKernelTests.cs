using DepthPrune.Entropy;
using DepthPrune.Runtime;
using static TorchSharp.torch;

namespace DepthPrune.Tests.Entropy;

/// <summary>The in-place CPU counting kernel and the on-device path against a plain loop, on
/// sizes that leave vector tails and cross the threshold where the kernel splits across threads.</summary>
public class OnCountKernelTests
{
    /// <summary>Values with exact zeros, negative zeros, NaN and infinities mixed in.</summary>
    static float[] Values(int count, int seed)
    {
        var random = new Random(seed);
        float[] special = [0f, -0f, float.NaN, float.PositiveInfinity, float.NegativeInfinity];
        return Enumerable.Range(0, count)
            .Select(_ => random.Next(10) == 0 ? special[random.Next(special.Length)] : (float)(random.NextDouble() * 2 - 1))
            .ToArray();
    }

    /// <summary>Brute force over [outer, neurons, inner] in row-major order.</summary>
    static long[] Loop(float[] x, int outer, int neurons, int inner)
    {
        var counts = new long[neurons];
        for (int o = 0; o < outer; o++)
            for (int c = 0; c < neurons; c++)
                for (int i = 0; i < inner; i++)
                    if (x[(o * neurons + c) * inner + i] >= 0) counts[c]++;
        return counts;
    }

    static long[] Counted(Tensor z, int channelDim, long neurons)
    {
        using var counter = new NeuronCounter(neurons);
        counter.Observe(z, channelDim);
        var result = counter.Result("l", EntropyEstimator.Dataset);
        return result.OnFraction.Select(p => (long)Math.Round(p * result.ObservationsPerNeuron)).ToArray();
    }

    [Theory]
    [InlineData(3, 5, 7)]          // tails shorter than one vector everywhere
    [InlineData(2, 3, 1)]          // channels last, fewer neurons than a vector
    [InlineData(300, 37, 1)]       // channels last with a tail
    [InlineData(64, 24, 27 * 27)]  // above the multi-thread threshold, odd spatial size
    [InlineData(5000, 229, 1)]     // channels last above the threshold
    public void Kernel_counts_equal_a_plain_loop(int outer, int neurons, int inner)
    {
        float[] x = Values(outer * neurons * inner, outer + neurons + inner);
        using var z = inner == 1 ? tensor(x).reshape(outer, neurons) : tensor(x).reshape(outer, neurons, inner, 1);
        Assert.True(OnCountKernel.Supports(z));
        Assert.Equal(Loop(x, outer, neurons, inner), Counted(z, inner == 1 ? -1 : 1, neurons));
    }

    [Theory]
    [InlineData(3, 5, 7)]      // several channels, odd spatial size
    [InlineData(64, 24, 27)]   // above the multi-thread threshold
    [InlineData(4, 1, 9)]      // one channel: the same memory, marked channels-last by its strides
    public void Channels_last_activations_count_as_their_logical_layout(int batch, int channels, int size)
    {
        float[] x = Values(batch * channels * size * size, batch + channels);
        using var contiguous = tensor(x).reshape(batch, channels, size, size);
        using var channelsLast = MemoryLayout.ChannelsLast(contiguous);
        Assert.True(MemoryLayout.IsChannelsLast(channelsLast));
        // The plain loop reads x in its logical [N, C, H*W] order.
        Assert.Equal(Loop(x, batch, channels, size * size), Counted(channelsLast, 1, channels));
        using var asDouble = channelsLast.to(ScalarType.Float64);   // the on-device path
        Assert.Equal(Loop(x, batch, channels, size * size), Counted(asDouble, 1, channels));
    }

    [Fact]
    public void Device_path_for_other_dtypes_and_strided_views_equals_a_plain_loop()
    {
        const int outer = 40, neurons = 6, inner = 9;
        float[] x = Values(outer * neurons * inner, 1);
        long[] expected = Loop(x, outer, neurons, inner);
        using var asDouble = tensor(x).reshape(outer, neurons, inner).to(ScalarType.Float64);
        Assert.False(OnCountKernel.Supports(asDouble));
        Assert.Equal(expected, Counted(asDouble, 1, neurons));
        // The same values stored [outer, inner, neurons] and viewed back as [outer, neurons, inner]: not contiguous.
        using var stored = tensor(x).reshape(outer, neurons, inner).transpose(1, 2).contiguous();
        using var strided = stored.transpose(1, 2);
        Assert.False(OnCountKernel.Supports(strided));
        Assert.Equal(expected, Counted(strided, 1, neurons));
    }
}
