using DepthPrune.Data;
using DepthPrune.Models;
using DepthPrune.Runtime;
using DepthPrune.Training;

namespace DepthPrune.Folding;

/// <summary>What healing did, judged on a split other than the test split (validation when the
/// data has one, else the training split): top-1 before and after, whether the healed weights were
/// kept (only when they do not lower it), the last rate tried, and how many higher rates failed
/// before it by diverging or by lowering top-1. Top1After is NaN when the last rate diverged.</summary>
public sealed record HealResult(int Epochs, string Split, double Top1Before, double Top1After, bool Kept, double LearningRate, int Diverged = 0, int Lowered = 0);

/// <summary>Fine-tunes a folded network on the training split with the shared trainer: it is a
/// real network, so what an inexact merge changed at the borders can be trained away. Trains the
/// merged layers; ops borrowed from the original model (LayerNorm, attention) stay as they are.
/// A network without its BatchNorms can diverge, or train badly, at a rate its dense original
/// took: healing that diverges or lowers top-1 on the judging split is undone and starts again
/// from the folded weights at a tenth of the rate, up to Attempts rates in all.</summary>
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
        double TrainAt(double rate)
        {
            try { Trainer.Fit(view, data, options with { LearningRate = rate }, compute, new TrainHooks { Progress = progress, Stage = "heal" }); }
            catch (DivergedException) { return double.NaN; }
            net.eval();
            return Evaluation.Run(view, judge).Top1;
        }
        int attempt = 0, diverged = 0, lowered = 0;
        double after = TrainAt(Rate(0));
        while (!(after >= before) && attempt < Attempts - 1)   // NaN (diverged) fails the test too
        {
            if (double.IsNaN(after)) diverged++; else lowered++;
            net.Restore();
            after = TrainAt(Rate(++attempt));
        }
        bool kept = after >= before;
        if (kept) net.WriteBack();
        else net.Restore();
        net.eval();
        return new HealResult(options.Epochs, split, before, after, kept, Rate(attempt), diverged, lowered);
    }
}
