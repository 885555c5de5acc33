using TorchSharp;
using static TorchSharp.torch;

namespace DepthPrune.Data;

/// <summary>Per-channel mean and standard deviation of an image set in [0,1] units, computed
/// in chunks in double precision (population std, as torchvision recipes use).</summary>
public static class ChannelStats
{
    public static (double[] Mean, double[] Std) Compute(ImageSet set, int chunk = 4096)
    {
        long channels = set.Images.shape[1];
        var sum = new double[channels];
        var sumSq = new double[channels];
        long perChannel = 0;
        using var byteScale = 255.0.ToScalar();   // kept alive through the calls (see BatchLoader.ByteScale)
        for (long start = 0; start < set.Count; start += chunk)
        {
            using var scope = NewDisposeScope();
            long n = Math.Min(chunk, set.Count - start);
            var x = set.Images.narrow(0, start, n).to(float64).div_(byteScale);
            double[] s = x.sum([0, 2, 3]).data<double>().ToArray();
            double[] q = x.square().sum([0, 2, 3]).data<double>().ToArray();
            for (int c = 0; c < channels; c++) { sum[c] += s[c]; sumSq[c] += q[c]; }
            perChannel += n * x.shape[2] * x.shape[3];
        }
        var mean = sum.Select(v => v / perChannel).ToArray();
        var std = sumSq.Select((q, c) => Math.Sqrt(Math.Max(0, q / perChannel - mean[c] * mean[c]))).ToArray();
        return (mean, std);
    }
}
