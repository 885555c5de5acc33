using DepthPrune.Folding;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DepthPrune.Tests.Folding;

/// <summary>Merged layers against the two original layers applied one after the other.</summary>
public class ChainMergeTests
{
    static AffineLayer Conv(long outC, long inC, long kernel, long stride, long padding, long groups = 1) =>
        new("c", randn(outC, inC / groups, kernel, kernel), randn(outC), new ConvGeometry([kernel, kernel], [stride, stride], [padding, padding], groups), exact: true);

    static Tensor Apply(AffineLayer l, Tensor x) => l.Conv is null
        ? F.linear(x, l.Weight, l.Bias)
        : F.conv2d(x, l.Weight, l.Bias, strides: l.Conv.Stride, padding: l.Conv.Padding, groups: l.Conv.Groups);

    static float MaxDifference(Tensor a, Tensor b) => (a - b).abs().max().item<float>();

    [Fact]
    public void Linear_after_linear_is_one_exact_linear()
    {
        manual_seed(1);
        using var first = new AffineLayer("a", randn(7, 5), randn(7), null, true);
        using var second = new AffineLayer("b", randn(3, 7), randn(3), null, true);
        using var merged = ChainMerge.Merge(first, second);
        using var x = randn(4, 5);
        Assert.Equal([3L, 5L], merged.Weight.shape);
        Assert.True(merged.Exact);
        Assert.True(MaxDifference(Apply(merged, x), Apply(second, Apply(first, x))) < 1e-4f);
        Assert.Equal((7 * 5 + 3 * 7, 3 * 5), ChainMerge.Macs(first, second));
    }

    [Theory]
    [InlineData(3, 2, 1, 1, 1, 0, 1)]   // 3x3/2 padded, then 1x1: exact, kernel 3, stride 2
    [InlineData(3, 1, 0, 3, 2, 0, 1)]   // 3x3 then 3x3/2, no padding: kernel 5, stride 2
    [InlineData(1, 1, 0, 3, 1, 0, 6)]   // 1x1 expand, then depthwise 3x3 (MobileNetV2's order)
    [InlineData(3, 1, 1, 1, 1, 0, 6)]   // depthwise 3x3, then 1x1 project
    public void Conv_after_unpadded_conv_is_exact(int k1, int s1, int p1, int k2, int s2, int p2, int depthwise)
    {
        manual_seed(2);
        long c = 6;
        // depthwise > 1 marks which of the two convs is the grouped one (groups = channels).
        using var first = Conv(c, c, k1, s1, p1, depthwise > 1 && k1 == 3 ? c : 1);
        using var second = Conv(c, c, k2, s2, p2, depthwise > 1 && k2 == 3 ? c : 1);
        using var merged = ChainMerge.Merge(first, second);
        using var x = randn(2, c, 11, 11);
        using var expected = Apply(second, Apply(first, x));
        using var actual = Apply(merged, x);
        Assert.True(merged.Exact);
        Assert.Equal(k1 + (k2 - 1) * s1, merged.Conv!.Kernel[0]);
        Assert.Equal(s1 * s2, merged.Conv.Stride[0]);
        Assert.Equal(expected.shape, actual.shape);
        Assert.True(MaxDifference(actual, expected) < 1e-3f, $"max difference {MaxDifference(actual, expected)}");
    }

    [Fact]
    public void Padding_in_the_second_conv_changes_only_the_border_and_is_marked_inexact()
    {
        manual_seed(3);
        using var first = Conv(4, 3, 3, 1, 1);
        using var second = Conv(5, 4, 3, 1, 1);
        using var merged = ChainMerge.Merge(first, second);
        using var x = randn(2, 3, 10, 10);
        using var expected = Apply(second, Apply(first, x));
        using var actual = Apply(merged, x);
        Assert.False(merged.Exact);
        Assert.Equal(expected.shape, actual.shape);
        var inside = TensorIndex.Slice(1, -1);
        Assert.True(MaxDifference(actual[.., .., inside, inside], expected[.., .., inside, inside]) < 1e-3f);
        Assert.True(MaxDifference(actual, expected) > 1e-2f);   // the first bias sits in the zero padding
        // Two 3x3 convs cost 9*3*4 + 9*4*5 MACs per pixel; the 5x5 that replaces them 25*3*5.
        Assert.Equal((9 * 3 * 4 + 9 * 4 * 5, 25 * 3 * 5), ChainMerge.Macs(first, second));
    }

    [Fact]
    public void Identity_shortcut_goes_into_the_centre_tap()
    {
        manual_seed(4);
        using var main = Conv(5, 5, 3, 1, 1);
        using var block = ChainMerge.AddShortcut(main, null)!;
        using var x = randn(2, 5, 8, 8);
        using var expected = Apply(main, x) + x;
        Assert.True(block.Exact);
        Assert.True(MaxDifference(Apply(block, x), expected) < 1e-4f);
    }

    [Fact]
    public void Strided_conv_shortcut_adds_where_it_reads_the_same_pixels()
    {
        manual_seed(5);
        // A downsampling block whose main path folded into one 7x7/2 conv, with a 1x1/2 shortcut.
        using var main = Conv(8, 4, 7, 2, 3);
        using var shortcut = Conv(8, 4, 1, 2, 0);
        using var block = ChainMerge.AddShortcut(main, shortcut)!;
        using var x = randn(2, 4, 13, 13);
        using var expected = Apply(main, x) + Apply(shortcut, x);
        Assert.Equal([7L, 7L], block.Conv!.Kernel);
        Assert.True(MaxDifference(Apply(block, x), expected) < 1e-3f);
        // A shortcut window reaching outside the main kernel cannot be added.
        using var wide = Conv(8, 4, 1, 2, 4);
        Assert.Null(ChainMerge.AddShortcut(main, wide));
    }

    [Fact]
    public void Shortcut_with_another_stride_is_refused()
    {
        using var main = Conv(4, 4, 3, 1, 1);
        using var shortcut = Conv(4, 4, 1, 2, 0);
        Assert.Null(ChainMerge.AddShortcut(main, shortcut));
    }

    [Fact]
    public void A_conv_and_a_linear_do_not_merge()
    {
        using var conv = Conv(4, 3, 3, 1, 1);
        using var linear = new AffineLayer("l", randn(2, 4), randn(2), null, true);
        Assert.False(ChainMerge.CanMerge(conv, linear));
        Assert.Throws<ArgumentException>(() => ChainMerge.Merge(conv, linear));
    }
}
