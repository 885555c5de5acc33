using DepthPrune.Data;
using DepthPrune.Models;
using DepthPrune.Runtime;
using DepthPrune.Training;

namespace DepthPrune.Folding;

/// <summary>Fine-tunes a folded network on the training split with the shared trainer: it is a
/// real network, so what an inexact merge changed at the borders can be trained away. Trains the
/// merged layers; ops borrowed from the original model (LayerNorm, attention) stay as they are.</summary>
public static class FoldHealing
{
    public static void Heal(FoldedNet net, ZooModel source, DataBundle data, TrainOptions options, Compute compute, IProgress<TrainProgress>? progress)
    {
        // A view of the folded network for the trainer; not disposed here (that would dispose net).
        var view = new ZooModel(source.Name + " (folded)", source.Options, net, new SeqNode());
        Trainer.Fit(view, data, options, compute, new TrainHooks { Progress = progress, Stage = "heal" });
        net.eval();
        net.WriteBack();
    }
}
