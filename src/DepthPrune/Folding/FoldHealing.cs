using DepthPrune.Data;
using DepthPrune.Models;
using DepthPrune.Runtime;
using DepthPrune.Training;

namespace DepthPrune.Folding;

/// <summary>What healing did, judged on a split other than the test split (validation when the
/// data has one, else the training split): top-1 before and after, and whether the healed weights
/// were kept (only when they do not lower it), the rate it trained at and how many higher rates
/// diverged before it.</summary>
public sealed record HealResult(int Epochs, string Split, double Top1Before, double Top1After, bool Kept, double LearningRate, int Diverged = 0);

/// <summary>Fine-tunes a folded network on the training split with the shared trainer: it is a
/// real network, so what an inexact merge changed at the borders can be trained away. Trains the
/// merged layers; ops borrowed from the original model (LayerNorm, attention) stay as they are.
/// Healing that lowers top-1 on the judging split is undone (a network without its BatchNorms
/// can train badly at too high a rate); healing that diverges starts again from the folded weights
/// at a tenth of the rate, up to Attempts rates in all.</summary>
public static class FoldHealing
{
    public const int Attempts = 3;

    public static HealResult Heal(FoldedNet net, ZooModel source, DataBundle data, TrainOptions options, Compute compute, IProgress<TrainProgress>? progress)
    {
        // A view of the folded network for the trainer; not disposed here (that would dispose net).
        var view = new ZooModel(source.Name + " (folded)", source.Options, net, new SeqNode());
        var (split, set) = data.Validation is { } validation ? ("validation", validation) : ("train", data.Train);
        var judge = data.EvalLoader(set, 256, compute);
        double before = Evaluation.Run(view, judge).Top1;
        double Rate(int attempt) => options.LearningRate / Math.Pow(10, attempt);
        int diverged = 0;
        for (; diverged < Attempts; diverged++)
        {
            try
            {
                Trainer.Fit(view, data, options with { LearningRate = Rate(diverged) }, compute, new TrainHooks { Progress = progress, Stage = "heal" });
                break;
            }
            catch (DivergedException) { net.Restore(); }
        }
        net.eval();
        double after = diverged < Attempts ? Evaluation.Run(view, judge).Top1 : double.NaN;
        bool kept = after >= before;   // false for NaN: every rate diverged
        if (kept) net.WriteBack();
        else net.Restore();
        return new HealResult(options.Epochs, split, before, after, kept, Rate(Math.Min(diverged, Attempts - 1)), diverged);
    }
}
