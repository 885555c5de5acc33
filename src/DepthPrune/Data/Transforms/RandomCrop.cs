using static TorchSharp.torch;

namespace DepthPrune.Data.Transforms;

/// <summary>Zero-pad by `padding` then cut a random size x size window per sample.</summary>
public sealed class RandomCrop(int size, int padding) : BatchTransform
{
    public override Tensor Apply(Tensor batch, Generator random)
    {
        using var padded = nn.functional.pad(batch, [padding, padding, padding, padding]);
        long maxY = padded.shape[2] - size, maxX = padded.shape[3] - size;
        using var ys = randint(maxY + 1, [batch.shape[0]], generator: random);
        using var xs = randint(maxX + 1, [batch.shape[0]], generator: random);
        long[] y = ys.data<long>().ToArray(), x = xs.data<long>().ToArray();
        var crops = new Tensor[batch.shape[0]];
        for (int i = 0; i < crops.Length; i++) crops[i] = padded[i].narrow(1, y[i], size).narrow(2, x[i], size);
        Tensor result = stack(crops);
        foreach (var c in crops) c.Dispose();
        return result;
    }

    public override string Describe() => $"random_crop({size}, pad={padding})";
}
