using static TorchSharp.torch;

namespace DepthPrune.Data.Transforms;

public sealed class Normalize(double[] mean, double[] std) : BatchTransform
{
    public double[] Mean { get; } = mean;
    public double[] Std { get; } = std;

    public override Tensor Apply(Tensor batch, Generator random)
    {
        using var m = tensor(Mean.Select(v => (float)v).ToArray()).reshape(1, -1, 1, 1);
        using var s = tensor(Std.Select(v => (float)v).ToArray()).reshape(1, -1, 1, 1);
        return batch.sub(m).div_(s);
    }

    public override string Describe() => $"normalize(mean=[{string.Join(", ", Mean.Select(v => v.ToString("0.####")))}], std=[{string.Join(", ", Std.Select(v => v.ToString("0.####")))}])";
}
