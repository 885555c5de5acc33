using static TorchSharp.torch;

namespace DepthPrune.Data.Transforms;

/// <summary>Per sample: a random area fraction in [minScale,1] and aspect ratio in [3/4,4/3],
/// cropped and resized (bilinear) to size x size, as torchvision's RandomResizedCrop.</summary>
public sealed class RandomResizedCrop(int size, double minScale = 0.08) : BatchTransform
{
    public override Tensor Apply(Tensor batch, Generator random)
    {
        long n = batch.shape[0], height = batch.shape[2], width = batch.shape[3];
        using var draws = rand([n, 4], generator: random, dtype: float64);
        double[] d = draws.data<double>().ToArray();
        var crops = new Tensor[n];
        for (int i = 0; i < n; i++)
        {
            double area = height * width * (minScale + (1 - minScale) * d[4 * i]);
            double ratio = Math.Exp(Math.Log(3.0 / 4) + (Math.Log(4.0 / 3) - Math.Log(3.0 / 4)) * d[4 * i + 1]);
            long w = Math.Clamp((long)Math.Round(Math.Sqrt(area * ratio)), 1, width);
            long h = Math.Clamp((long)Math.Round(Math.Sqrt(area / ratio)), 1, height);
            long top = (long)((height - h) * d[4 * i + 2]), left = (long)((width - w) * d[4 * i + 3]);
            using var window = batch[i].narrow(1, top, h).narrow(2, left, w).unsqueeze(0);
            crops[i] = nn.functional.interpolate(window, [size, size], mode: InterpolationMode.Bilinear, align_corners: false);
        }
        Tensor result = cat(crops);
        foreach (var c in crops) c.Dispose();
        return result;
    }

    public override string Describe() => $"random_resized_crop({size}, scale=[{minScale},1])";
}
