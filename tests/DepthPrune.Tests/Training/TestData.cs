using DepthPrune.Data;
using DepthPrune.Data.Transforms;

namespace DepthPrune.Tests.Training;

/// <summary>A small learnable synthetic image set: the class sets the brightness of one quadrant.</summary>
public static class TestData
{
    public static DataBundle Quadrants(int train = 256, int test = 64, int size = 8, int seed = 0, int validation = 0)
    {
        ImageSet Make(int n, int s)
        {
            var random = new Random(s);
            var pixels = new byte[n * size * size];
            var labels = new long[n];
            for (int i = 0; i < n; i++)
            {
                int label = random.Next(4);
                labels[i] = label;
                for (int y = 0; y < size; y++)
                    for (int x = 0; x < size; x++)
                    {
                        int quadrant = (y < size / 2 ? 0 : 2) + (x < size / 2 ? 0 : 1);
                        pixels[i * size * size + y * size + x] = (byte)(random.Next(60) + (quadrant == label ? 150 : 0));
                    }
            }
            return ImageSet.FromBytes(pixels, [n, 1, size, size], labels, ["a", "b", "c", "d"], "quadrants");
        }
        var trainSet = Make(train, seed);
        var (mean, std) = ChannelStats.Compute(trainSet);
        var normalize = new Normalize(mean, std);
        return new DataBundle
        {
            Name = "quadrants", Train = trainSet, Test = Make(test, seed + 1), Mean = mean, Std = std,
            Validation = validation > 0 ? Make(validation, seed + 2) : null,
            TrainPipeline = new Pipeline([new RandomFlip(horizontal: false, p: 0.0), normalize]),
            EvalPipeline = new Pipeline([normalize]),
        };
    }
}
