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
        using var noGrad = no_grad();
        var tally = new OutputTally();
        foreach (var batch in loader.Epoch(0))
            using (batch)
            using (NewDisposeScope())
                tally.Add(original.forward(batch.Inputs), folded.forward(batch.Inputs), batch.Targets);
        return tally.Result();
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
