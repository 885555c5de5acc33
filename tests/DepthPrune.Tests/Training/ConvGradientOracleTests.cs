using DepthPrune.Runtime;
using static TorchSharp.torch;

namespace DepthPrune.Tests.Training;

/// <summary>The conv input gradient, computed the way the trainer computes it, against an
/// independent oracle: the transposed convolution of the output gradient with the same weights.</summary>
public class ConvGradientOracleTests
{
    [Theory]
    [InlineData(8, 8, 8, 3, 1)]
    [InlineData(3, 8, 8, 5, 0)]
    [InlineData(16, 16, 16, 3, 1)]
    public void Input_gradient_matches_the_transposed_convolution(int inC, int outC, int size, int kernel, int padding)
    {
        Seeding.Seed(5);   // touches the library first, as every caller does
        using var conv = nn.Conv2d(inC, outC, kernel, padding: padding);
        using var x = randn(32, inC, size, size).requires_grad_(true);
        using var y = conv.forward(x);
        using var g = randn_like(y);
        y.backward([g]);
        using var oracle = nn.functional.conv_transpose2d(g, conv.weight!, padding: [padding, padding]);
        Assert.True(x.grad!.allclose(oracle, rtol: 1e-4, atol: 1e-5), $"max error {(x.grad! - oracle).abs().max().item<float>()}");
        Assert.True(get_num_threads() >= 1);
    }
}
