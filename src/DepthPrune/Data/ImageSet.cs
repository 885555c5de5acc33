using TorchSharp;
using static TorchSharp.torch;

namespace DepthPrune.Data;

/// <summary>A labelled image set held in memory as one uint8 tensor [N,C,H,W] (on the CPU),
/// so batches are cut with one index_select instead of per-pixel loops.</summary>
public sealed class ImageSet : IDisposable
{
    public Tensor Images { get; }
    public long[] Labels { get; }
    public IReadOnlyList<string> Classes { get; }
    public string Source { get; }

    public ImageSet(Tensor images, long[] labels, IReadOnlyList<string> classes, string source)
    {
        if (images.dim() != 4 || images.dtype != ScalarType.Byte)
            throw new ArgumentException($"{source}: images must be uint8 [N,C,H,W], got {images.dtype} {string.Join('x', images.shape)}");
        if (images.shape[0] != labels.Length)
            throw new Runtime.DataFormatException($"{source}: {images.shape[0]} images but {labels.Length} labels");
        Images = images;
        Labels = labels;
        Classes = classes;
        Source = source;
    }

    public int Count => Labels.Length;
    public long[] SampleShape => Images.shape[1..];

    public ImageSet Subset(IReadOnlyList<long> indices, string label)
    {
        using var index = tensor(indices.ToArray(), int64);
        return new ImageSet(Images.index_select(0, index), indices.Select(i => Labels[i]).ToArray(), Classes, $"{Source} [{label}]");
    }

    public static ImageSet FromBytes(byte[] pixels, long[] shape, long[] labels, IReadOnlyList<string> classes, string source) =>
        new(tensor(pixels, dtype: ScalarType.Byte).reshape(shape), labels, classes, source);

    public void Dispose() => Images.Dispose();
}
