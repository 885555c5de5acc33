using DepthPrune.Folding;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DepthPrune.Tests.Folding;

/// <summary>Merged layers against the two original layers applied one after the other.</summary>
public class ChainMergeTests
{
    /// <summary>A conv layer fed [inC, size, size] images.</summary>
    static AffineLayer Conv(long outC, long inC, long kernel, long stride, long padding, long groups = 1, long size = 10) =>
        new("c", randn(outC, inC / groups, kernel, kernel), randn(outC), new ConvGeometry([kernel, kernel], [stride, stride], [padding, padding], groups), exact: true)
        { InputShape = [inC, size, size] };

    /// <summary>An original (unmerged) layer, computed with torch's own ops.</summary>
    static Tensor Apply(AffineLayer l, Tensor x) => l.Conv is null
        ? F.linear(x, l.Weight, l.Bias)
        : F.conv2d(x, l.Weight, l.Bias, strides: l.Conv.Stride, padding: l.Conv.Padding, groups: l.Conv.Groups);


    static float MaxDifference(Tensor a, Tensor b) => (a - b).abs().max().item<float>();

    [Fact]
    public void Linear_after_linear_is_one_exact_linear()
    {
        manual_seed(1);
        using var first = new AffineLayer("a", randn(7, 5), randn(7), null, true) { InputShape = [5] };
        using var second = new AffineLayer("b", randn(3, 7), randn(3), null, true) { InputShape = [7] };
        using var merged = ChainMerge.Merge(first, second);
        using var x = randn(4, 5);
        Assert.Equal([3L, 5L], merged.Weight.shape);
        Assert.True(merged.Exact);
        Assert.True(MaxDifference(merged.Apply(x), Apply(second, Apply(first, x))) < 1e-4f);
        Assert.Equal((3 * 5, true), ChainMerge.Preview([first, second], 0, 1));
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
        using var first = Conv(c, c, k1, s1, p1, depthwise > 1 && k1 == 3 ? c : 1, size: 11);
        using var second = Conv(c, c, k2, s2, p2, depthwise > 1 && k2 == 3 ? c : 1);
        using var merged = ChainMerge.Merge(first, second);
        using var x = randn(2, c, 11, 11);
        using var expected = Apply(second, Apply(first, x));
        using var actual = merged.Apply(x);
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
        using var actual = merged.Apply(x);
        Assert.False(merged.Exact);
        Assert.Equal(expected.shape, actual.shape);
        var inside = TensorIndex.Slice(1, -1);
        Assert.True(MaxDifference(actual[.., .., inside, inside], expected[.., .., inside, inside]) < 1e-3f);
        Assert.True(MaxDifference(actual, expected) > 1e-2f);   // the first conv's border pixels read padding
        // On zero input (the bias alone) the merged layer is exact everywhere, borders included.
        using var zero = zeros(1, 3, 10, 10);
        Assert.True(MaxDifference(merged.Apply(zero), Apply(second, Apply(first, zero))) < 1e-4f);
        // Two 3x3 convs cost (9*3*4 + 9*4*5) MACs per pixel; the 5x5 that replaces them 25*3*5.
        Assert.Equal((25 * 3 * 5 * 100L, false), ChainMerge.Preview([first, second], 0, 1));
        Assert.Equal((9 * 3 * 4 + 9 * 4 * 5) * 100L, first.Macs + second.Macs);
    }

    [Fact]
    public void Expand_depthwise_project_is_one_exact_conv_with_a_bias_that_differs_at_the_borders()
    {
        manual_seed(6);
        // MobileNetV2's inverted residual with both ReLU6s removed: 1x1 expand, 3x3 depthwise, 1x1 project.
        using var expand = Conv(12, 4, 1, 1, 0, size: 9);
        using var depthwise = Conv(12, 12, 3, 1, 1, groups: 12, size: 9);
        using var project = Conv(5, 12, 1, 1, 0, size: 9);
        using var twoOfThem = ChainMerge.Merge(expand, depthwise);
        using var merged = ChainMerge.Merge(twoOfThem, project);
        using var x = randn(2, 4, 9, 9);
        using var expected = Apply(project, Apply(depthwise, Apply(expand, x)));
        Assert.True(merged.Exact);
        Assert.Equal([5L, 9L, 9L], merged.Bias.shape);   // the expand bias meets the depthwise padding
        Assert.True(MaxDifference(merged.Apply(x), expected) < 1e-3f, $"max difference {MaxDifference(merged.Apply(x), expected)}");
        // 9*4*5 MACs per pixel against 4*12 + 9*12 + 12*5.
        Assert.Equal((9 * 4 * 5 * 81L, true), ChainMerge.Preview([expand, depthwise, project], 0, 2));
    }

    [Fact]
    public void Identity_shortcut_goes_into_the_centre_tap()
    {
        manual_seed(4);
        using var main = Conv(5, 5, 3, 1, 1);
        using var block = ChainMerge.AddShortcut(main, null)!;
        using var x = randn(2, 5, 10, 10);
        using var expected = Apply(main, x) + x;
        Assert.True(block.Exact);
        Assert.True(MaxDifference(block.Apply(x), expected) < 1e-4f);
    }

    [Fact]
    public void Strided_conv_shortcut_adds_where_it_reads_the_same_pixels()
    {
        manual_seed(5);
        // A downsampling block whose main path folded into one 7x7/2 conv, with a 1x1/2 shortcut.
        using var main = Conv(8, 4, 7, 2, 3, size: 13);
        using var shortcut = Conv(8, 4, 1, 2, 0, size: 13);
        using var block = ChainMerge.AddShortcut(main, shortcut)!;
        using var x = randn(2, 4, 13, 13);
        using var expected = Apply(main, x) + Apply(shortcut, x);
        Assert.Equal([7L, 7L], block.Conv!.Kernel);
        Assert.True(MaxDifference(block.Apply(x), expected) < 1e-3f);
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
