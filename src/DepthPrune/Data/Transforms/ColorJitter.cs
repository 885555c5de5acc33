using static TorchSharp.torch;

namespace DepthPrune.Data.Transforms;

/// <summary>Random brightness, contrast and saturation factors in [1-x, 1+x] per sample.</summary>
public sealed class ColorJitter(double brightness, double contrast, double saturation) : BatchTransform
{
    public override Tensor Apply(Tensor batch, Generator random)
    {
        Tensor x = batch.mul(Factor(batch, random, brightness));
        using (var mean = x.mean([1, 2, 3], keepdim: true))
        using (var c = Factor(batch, random, contrast))
        {
            var next = x.sub(mean).mul_(c).add_(mean);
            x.Dispose();
            x = next;
        }
        if (batch.shape[1] == 3)
        {
            using var weights = tensor(new[] { 0.299f, 0.587f, 0.114f }).reshape(1, 3, 1, 1);
            using var grey = x.mul(weights).sum(1, keepdim: true);
            using var s = Factor(batch, random, saturation);
            var next = x.sub(grey).mul_(s).add_(grey);
            x.Dispose();
            x = next;
        }
        return x.clamp_(0, 1);
    }

    static Tensor Factor(Tensor batch, Generator random, double amount) =>
        PerSample(batch, random).mul_(2 * amount).add_(1 - amount);

    public override string Describe() => $"color_jitter(b={brightness}, c={contrast}, s={saturation})";
}
