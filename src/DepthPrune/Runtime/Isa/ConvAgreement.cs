using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DepthPrune.Runtime.Isa;

/// <summary>Largest errors of a float32 convolution (forward, input gradient, weight gradient)
/// against float64, which libtorch computes without oneDNN; relative to the largest reference value.</summary>
public sealed record ConvErrors(double Forward, double InputGradient, double WeightGradient)
{
    /// <summary>float32 rounding stays near 1e-6 here; the kernel faults seen were 0.2-0.8.</summary>
    public const double Tolerance = 1e-4;

    public double Worst => Math.Max(Forward, Math.Max(InputGradient, WeightGradient));
    public bool Agrees => Worst < Tolerance;   // NaN fails too

    public static ConvErrors Measure(ConvGeometry g, int seed)
    {
        using var scope = NewDisposeScope();
        var generator = new TorchSharp.torch.Generator((ulong)seed);
        var x = Layout(randn([g.Batch, g.InChannels, g.Size, g.Size], generator: generator), g).requires_grad_(true);
        var w = (randn([g.OutChannels, g.InChannels / g.Groups, g.Kernel, g.Kernel], generator: generator)
                 * (1.0 / Math.Sqrt(g.InChannels / g.Groups * g.Kernel * g.Kernel))).detach().requires_grad_(true);
        var x64 = x.detach().to(ScalarType.Float64).requires_grad_(true);
        var w64 = w.detach().to(ScalarType.Float64).requires_grad_(true);
        long[] strides = [g.Stride, g.Stride], pads = [g.Padding, g.Padding];
        var y = F.conv2d(x, w, strides: strides, padding: pads, groups: g.Groups);
        var y64 = F.conv2d(x64, w64, strides: strides, padding: pads, groups: g.Groups);
        var upstream = Layout(randn(y.shape, generator: generator), g);
        (y * upstream).sum().backward();
        (y64 * upstream.to(ScalarType.Float64)).sum().backward();
        return new ConvErrors(Relative(y, y64), Relative(x.grad!, x64.grad!), Relative(w.grad!, w64.grad!));
    }

    static Tensor Layout(Tensor t, ConvGeometry g) => g.ChannelsLast ? MemoryLayout.ChannelsLast(t) : t;

    static double Relative(Tensor actual, Tensor expected) =>
        ((actual.to(ScalarType.Float64) - expected).abs().max() / expected.abs().max().clamp_min(1e-30)).item<double>();
}
