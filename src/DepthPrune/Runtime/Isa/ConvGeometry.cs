using System.Globalization;

namespace DepthPrune.Runtime.Isa;

/// <summary>One float32 convolution as oneDNN sees it: batch, channels, input size, kernel,
/// stride, padding and groups (square kernels and inputs, as every zoo model uses), and the memory
/// layout of input and gradients (channels-last is what training batches use; other kernels run on it).</summary>
public sealed record ConvGeometry(int Batch, int InChannels, int OutChannels, int Size, int Kernel, int Stride, int Padding, int Groups, bool ChannelsLast = false)
{
    public override string ToString() => string.Join(",", new[] { Batch, InChannels, OutChannels, Size, Kernel, Stride, Padding, Groups }
        .Select(v => v.ToString(CultureInfo.InvariantCulture))) + (ChannelsLast ? ",channels-last" : "");
}

/// <summary>What the ISA check covers: hand-picked geometries (the oracle's, including two that
/// oneDNN's AVX2 kernels got wrong on one of our CPUs) plus every conv of the zoo models at the
/// widths and inputs the presets and benchmarks use, each at batch 1, a small batch and a training-sized one.</summary>
public static class ConvCheckSet
{
    public static readonly ConvGeometry[] Fixed =
    [
        new(32, 8, 8, 8, 3, 1, 1, 1),
        new(32, 3, 8, 8, 5, 1, 0, 1),
        new(16, 8, 16, 16, 3, 2, 1, 1),
        new(16, 16, 32, 8, 1, 1, 0, 1),
        new(16, 32, 32, 8, 3, 1, 1, 32),   // depthwise
        new(8, 1, 6, 28, 5, 1, 2, 1),      // LeNet-5's first layer: wrong input gradients with AVX2 kernels on one CPU
        new(2, 6, 5, 11, 3, 1, 0, 1),      // wrong with AVX2 kernels there too
    ];

    /// <summary>(model, width, input channels, input size) whose conv layers are checked.</summary>
    public static readonly (string Model, double Width, int InChannels, int Size)[] Models =
    [
        ("lenet5", 1.0, 1, 28),
        ("resnet18-cifar", 0.0625, 3, 32),   // the narrowest widths: heap corruption with AVX2 channels-last kernels on one CPU
        ("resnet18-cifar", 0.125, 1, 28),
        ("resnet18-cifar", 0.25, 1, 28),
        ("resnet18-cifar", 0.25, 3, 32),
        ("mobilenetv2-cifar", 0.25, 1, 28),
        ("mobilenetv2-cifar", 0.25, 3, 32),
        ("vgg16bn", 0.25, 3, 32),
    ];

    /// <summary>Each model layer is checked at these batch sizes (1: single-image inference).</summary>
    public static readonly int[] Batches = [1, 4, 8, 64];

    /// <summary>Every geometry is checked in both layouts: contiguous and channels-last.</summary>
    public static readonly bool[] Layouts = [false, true];

    /// <summary>The memory-safety sweep (`DepthPrune.Bench memory`): every zoo CNN at the narrow widths the
    /// CLI accepts, both input shapes the data sets give, and small batches.</summary>
    public static IEnumerable<(string Model, double Width, int InChannels, int Size)> SweepModels =>
        from model in new[] { "lenet5", "resnet18-cifar", "mobilenetv2-cifar", "vgg16bn" }
        from width in new[] { 0.0625, 0.125, 0.25, 0.5 }
        from input in new[] { (Channels: 1, Size: 28), (Channels: 3, Size: 32) }
        where (model != "lenet5" || width == 0.0625)   // lenet5 has no width
              && (model != "vgg16bn" || input.Size == 32)   // five 2x2 poolings need 32 pixels
        select (model, width, input.Channels, input.Size);

    public static readonly int[] SweepBatches = [1, 2, 3, 4, 8, 32];

    /// <summary>Names the set, for the cache key: a change here re-verifies.</summary>
    public static string Description => "layouts nchw+channels-last|threads 1+all|malloc-check|" +
        string.Join(";", Fixed.Select(g => g.ToString())) + "|" +
        string.Join(";", Models.Select(m => FormattableString.Invariant($"{m.Model}:{m.Width}:{m.InChannels}:{m.Size}"))) + "|" +
        string.Join(",", Batches);
}
