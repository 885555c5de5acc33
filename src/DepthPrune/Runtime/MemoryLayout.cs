using static TorchSharp.torch;

namespace DepthPrune.Runtime;

/// <summary>Image batches in channels-last order (NHWC in memory, still indexed [N,C,H,W]).
/// oneDNN's convolutions run without reordering on that layout and BatchNorm, ReLU and the residual
/// adds keep it, so every conv net trains and evaluates faster on CPU (bench/torch-parity);
/// the values are the same, results differ only by the kernels' rounding. TorchSharp has no memory_format argument: the NHWC copy below, viewed
/// with channels-last strides, is what PyTorch's x.to(memory_format=torch.channels_last) makes
/// (strides set explicitly, so a single-channel batch is marked channels-last too).</summary>
public static class MemoryLayout
{
    /// <summary>DEPTHPRUNE_CHANNELS_LAST=0 keeps CPU batches contiguous (to compare, or where
    /// contiguous kernels prove faster).</summary>
    public const string Variable = "DEPTHPRUNE_CHANNELS_LAST";

    /// <summary>Whether loaders hand out channels-last CPU batches in this process.</summary>
    public static bool ForCpuBatches { get; } = Environment.GetEnvironmentVariable(Variable) != "0";

    /// <summary>What CPU batches use, and why, for `depthprune info`.</summary>
    public static string Describe() => ForCpuBatches ? "channels-last" : $"contiguous ({Variable}=0)";

    public static Tensor ChannelsLast(Tensor images)
    {
        if (images.dim() != 4 || IsChannelsLast(images)) return images;
        long n = images.shape[0], c = images.shape[1], h = images.shape[2], w = images.shape[3];
        using var permuted = images.permute(0, 2, 3, 1);
        using var nhwc = permuted.contiguous();
        return nhwc.as_strided([n, c, h, w], [h * w * c, 1, w * c, c]);
    }

    /// <summary>A 4-D tensor whose memory is dense NHWC.</summary>
    public static bool IsChannelsLast(Tensor images)
    {
        if (images.dim() != 4) return false;
        long[] stride = images.stride();
        long c = images.shape[1], w = images.shape[3];
        return stride[1] == 1 && stride[3] == c && stride[2] == w * c && stride[0] == images.shape[2] * w * c;
    }
}
