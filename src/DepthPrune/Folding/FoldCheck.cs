using DepthPrune.Data;
using DepthPrune.Runtime;
using static TorchSharp.torch;

namespace DepthPrune.Folding;

/// <summary>How far a folded network's outputs are from the model's, over a whole data set.</summary>
public sealed record FoldError(long Samples, double Top1Original, double Top1Folded, double Agreement, double MaxAbsDifference, double MaxRelativeDifference);

/// <summary>Measures a folded network against the model it came from: outputs on real data,
/// and latency of both on one batch.</summary>
public static class FoldCheck
{
    public static FoldError Compare(nn.Module<Tensor, Tensor> original, nn.Module<Tensor, Tensor> folded, BatchLoader loader)
    {
        original.eval();
        folded.eval();
        using var noGrad = no_grad();
        long samples = 0, rightOriginal = 0, rightFolded = 0, agree = 0;
        double maxAbs = 0, maxRelative = 0;
        foreach (var batch in loader.Epoch(0))
            using (batch)
            using (NewDisposeScope())
            {
                var a = original.forward(batch.Inputs);
                var b = folded.forward(batch.Inputs);
                var difference = (a - b).abs().max().item<float>();
                maxAbs = Math.Max(maxAbs, difference);
                maxRelative = Math.Max(maxRelative, difference / Math.Max(a.abs().max().item<float>(), 1e-12));
                var predictedA = a.argmax(1);
                var predictedB = b.argmax(1);
                rightOriginal += predictedA.eq(batch.Targets).sum().item<long>();
                rightFolded += predictedB.eq(batch.Targets).sum().item<long>();
                agree += predictedA.eq(predictedB).sum().item<long>();
                samples += batch.Size;
            }
        if (samples == 0) throw new InvalidOperationException("fold check: the data set has no images");
        return new FoldError(samples, 100.0 * rightOriginal / samples, 100.0 * rightFolded / samples, 100.0 * agree / samples, maxAbs, maxRelative);
    }

    /// <summary>Median seconds per forward pass of each network on the same batch, timed alternately.</summary>
    public static (double Original, double Folded) Latency(nn.Module<Tensor, Tensor> original, nn.Module<Tensor, Tensor> folded, Tensor batch, int repeats)
    {
        using var noGrad = no_grad();
        void Run(nn.Module<Tensor, Tensor> net) { using var scope = NewDisposeScope(); net.forward(batch); }
        var medians = Timing.Interleaved(repeats, () => Run(original), () => Run(folded));
        return (medians[0], medians[1]);
    }
}
