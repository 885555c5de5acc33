using DepthPrune.Runtime;
using DepthPrune.Runtime.Isa;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DepthPrune.Tests.Training;

/// <summary>float32 convolutions as the trainer runs them (oneDNN, under the ISA limit this process
/// chose) against float64, which libtorch computes without oneDNN; that reference is itself checked
/// against a plain loop. Written apart from ConvErrors, the check the ISA chooser runs.</summary>
public class ConvOracleTests
{
    static readonly long[] One = [1, 1];

    [Theory]
    [InlineData(32, 8, 8, 8, 3, 1, 1, 1)]
    [InlineData(32, 3, 8, 8, 5, 1, 0, 1)]
    [InlineData(16, 8, 16, 16, 3, 2, 1, 1)]
    [InlineData(16, 16, 32, 8, 1, 1, 0, 1)]
    [InlineData(16, 32, 32, 8, 3, 1, 1, 32)]   // depthwise
    [InlineData(8, 1, 6, 28, 5, 1, 2, 1)]      // LeNet-5's first layer: wrong input gradients with AVX2 kernels
    [InlineData(2, 6, 5, 11, 3, 1, 0, 1)]      // wrong with AVX2 kernels too
    public void Forward_input_gradient_and_weight_gradient_match_float64(int batch, int inC, int outC, int size, int kernel, int stride, int padding, int groups)
    {
        Seeding.Seed(5);   // touches the library first, as every caller does
        AssertConvMatchesFloat64(batch, inC, outC, size, kernel, stride, padding, groups);
    }

    [Fact]
    public void Every_geometry_the_ISA_check_covers_matches_float64_here()
    {
        Seeding.Seed(7);
        IReadOnlyList<ConvGeometry> all = DepthPrune.ConvCheck.ConvCheckChild.Geometries();
        Assert.True(all.Count > 100, $"only {all.Count} geometries");
        foreach (ConvGeometry g in all)
            AssertConvMatchesFloat64(g.Batch, g.InChannels, g.OutChannels, g.Size, g.Kernel, g.Stride, g.Padding, g.Groups, g.ToString(), g.ChannelsLast);
        Assert.Equal(all.Count / 2, all.Count(g => g.ChannelsLast));   // training batches are channels-last: both layouts are checked
    }

    static void AssertConvMatchesFloat64(int batch, int inC, int outC, int size, int kernel, int stride, int padding, int groups, string label = "", bool channelsLast = false)
    {
        using var scope = NewDisposeScope();
        Tensor Layout(Tensor t) => channelsLast ? MemoryLayout.ChannelsLast(t) : t;
        var x = Layout(randn(batch, inC, size, size)).requires_grad_(true);
        var w = (randn(outC, inC / groups, kernel, kernel) * 0.2).detach().requires_grad_(true);
        var x64 = x.detach().to(ScalarType.Float64).requires_grad_(true);
        var w64 = w.detach().to(ScalarType.Float64).requires_grad_(true);
        long[] strides = [stride, stride], pads = [padding, padding];
        var y = F.conv2d(x, w, strides: strides, padding: pads, groups: groups);
        var y64 = F.conv2d(x64, w64, strides: strides, padding: pads, groups: groups);
        var g = Layout(randn_like(y));
        (y * g).sum().backward();
        (y64 * g.to(ScalarType.Float64)).sum().backward();
        AssertClose(label + " forward", y, y64);
        AssertClose(label + " input gradient", x.grad!, x64.grad!);
        AssertClose(label + " weight gradient", w.grad!, w64.grad!);
    }

    static void AssertClose(string what, Tensor actual, Tensor expected)
    {
        double relative = ((actual.to(ScalarType.Float64) - expected).abs().max() / expected.abs().max()).item<double>();
        Assert.True(relative < 1e-4, $"{what}: max error {relative:G3} of the largest value");
    }

    [Fact]
    public void Float64_reference_equals_a_plain_loop()
    {
        // Input gradient of a 2x3x5x5 input through a 4x3x3x3 conv, stride 1, padding 1.
        Seeding.Seed(6);
        using var scope = NewDisposeScope();
        var x = randn(2, 3, 5, 5, dtype: ScalarType.Float64).requires_grad_(true);
        var w = randn(4, 3, 3, 3, dtype: ScalarType.Float64);
        var y = F.conv2d(x, w, strides: One, padding: One);
        var g = randn_like(y);
        (y * g).sum().backward();
        double[] W = w.data<double>().ToArray(), G = g.data<double>().ToArray(), dx = x.grad!.data<double>().ToArray();
        var expected = new double[2 * 3 * 5 * 5];
        for (int b = 0; b < 2; b++)
            for (int o = 0; o < 4; o++)
                for (int i = 0; i < 5; i++)
                    for (int j = 0; j < 5; j++)
                        for (int c = 0; c < 3; c++)
                            for (int u = 0; u < 3; u++)
                                for (int v = 0; v < 3; v++)
                                {
                                    int r = i + u - 1, s = j + v - 1;
                                    if (r < 0 || r >= 5 || s < 0 || s >= 5) continue;
                                    expected[((b * 3 + c) * 5 + r) * 5 + s] += G[((b * 4 + o) * 5 + i) * 5 + j] * W[((o * 3 + c) * 3 + u) * 3 + v];
                                }
        for (int k = 0; k < expected.Length; k++) Assert.Equal(expected[k], dx[k], 10);
    }
}
