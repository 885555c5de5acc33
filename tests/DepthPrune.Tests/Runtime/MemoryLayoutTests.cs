using DepthPrune.Runtime;
using static TorchSharp.torch;

namespace DepthPrune.Tests.Runtime;

public class MemoryLayoutTests
{
    [Theory]
    [InlineData(2, 3, 4, 5)]
    [InlineData(3, 1, 4, 4)]   // one channel: the memory is unchanged, the strides say channels-last
    public void Channels_last_keeps_every_value_and_lays_channels_innermost(int n, int c, int h, int w)
    {
        using var x = arange(n * c * h * w, dtype: ScalarType.Float32).reshape(n, c, h, w);
        using var last = MemoryLayout.ChannelsLast(x);
        Assert.True(last.equal(x).all().item<bool>());
        // NHWC in memory: stepping one channel moves one element, one pixel moves c elements.
        Assert.Equal([(long)h * w * c, 1, w * c, c], last.stride());
        Assert.True(MemoryLayout.IsChannelsLast(last));
        Assert.False(c > 1 && MemoryLayout.IsChannelsLast(x));
        // The permuted view is dense [N,H,W,C] and holds the values in that order.
        using var nhwc = last.permute(0, 2, 3, 1);
        Assert.True(nhwc.is_contiguous());
        Assert.Equal(x[1 % n, c - 1, h - 1, 0].item<float>(), nhwc[1 % n, h - 1, 0, c - 1].item<float>());
    }

    [Fact]
    public void Other_ranks_and_tensors_already_channels_last_pass_through()
    {
        using var flat = ones(4, 7);
        Assert.Same(flat, MemoryLayout.ChannelsLast(flat));
        using var images = MemoryLayout.ChannelsLast(ones(2, 3, 4, 4));
        Assert.Same(images, MemoryLayout.ChannelsLast(images));
    }
}
