using static TorchSharp.torch;

namespace DepthPrune.Data.Transforms;

/// <summary>Flips each sample with probability p: horizontally (width) or vertically (height).</summary>
public sealed class RandomFlip(bool horizontal, double p = 0.5) : BatchTransform
{
    public override Tensor Apply(Tensor batch, Generator random)
    {
        using var draw = PerSample(batch, random);
        using var flip = draw.lt(p);
        using var flipped = batch.flip(horizontal ? 3 : 2);
        return where(flip, flipped, batch);
    }

    public override string Describe() => $"{(horizontal ? "hflip" : "vflip")}(p={p})";
}
