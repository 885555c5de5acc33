using static TorchSharp.torch;

namespace DepthPrune.Data.Transforms;

/// <summary>Resize the shorter side to `resize` (bilinear), then cut the central crop x crop window.</summary>
public sealed class ResizeCentreCrop(int resize, int crop) : BatchTransform
{
    public override Tensor Apply(Tensor batch, Generator random)
    {
        long height = batch.shape[2], width = batch.shape[3];
        double scale = (double)resize / Math.Min(height, width);
        long h = (long)Math.Round(height * scale), w = (long)Math.Round(width * scale);
        using var resized = h == height && w == width ? batch.alias()
            : nn.functional.interpolate(batch, [h, w], mode: InterpolationMode.Bilinear, align_corners: false);
        return resized.narrow(2, (h - crop) / 2, crop).narrow(3, (w - crop) / 2, crop).contiguous();
    }

    public override string Describe() => $"resize({resize}) -> centre_crop({crop})";
}
