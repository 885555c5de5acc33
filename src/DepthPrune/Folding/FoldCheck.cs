using DepthPrune.Data;
using DepthPrune.Runtime;
using static TorchSharp.torch;

namespace DepthPrune.Folding;

/// <summary>Measures a folded network against the model it came from: outputs on real data,
/// and latency of both on one batch.</summary>
public static class FoldCheck
{
    public static OutputComparison Compare(nn.Module<Tensor, Tensor> original, nn.Module<Tensor, Tensor> folded, BatchLoader loader)
    {
        original.eval();
        folded.eval();
        return OutputTally.Over(loader, original.forward, folded.forward);
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
