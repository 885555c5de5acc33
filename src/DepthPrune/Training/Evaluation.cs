using DepthPrune.Data;
using DepthPrune.Models;
using static TorchSharp.torch;

namespace DepthPrune.Training;

public sealed record EvalResult(double Loss, double Top1, double Top5, int Samples);

public static class Evaluation
{
    /// <summary>Mean cross-entropy, top-1 and top-5 accuracy in percent, in eval mode; each
    /// image's top-1 hit is appended to hits, in the loader's order, when it is given.</summary>
    public static EvalResult Run(ZooModel model, BatchLoader loader, List<bool>? hits = null)
    {
        bool wasTraining = model.Net.training;
        model.Net.eval();
        double loss = 0;
        long top1 = 0, top5 = 0, n = 0;
        try
        {
            using var noGrad = no_grad();
            foreach (Batch batch in loader.Epoch(0))
            {
                using (batch)
                using (var scope = NewDisposeScope())
                {
                    var logits = model.Net.forward(batch.Inputs);
                    loss += nn.functional.cross_entropy(logits, batch.Targets, reduction: nn.Reduction.Sum).item<float>();
                    int k = (int)Math.Min(5, logits.shape[1]);
                    var best = logits.topk(k, 1).indexes;
                    var matches = best.eq(batch.Targets.unsqueeze(1));
                    var first = matches[.., 0];
                    top1 += first.sum().item<long>();
                    top5 += matches.any(1).sum().item<long>();
                    hits?.AddRange(first.cpu().data<bool>().ToArray());
                    n += batch.Size;
                }
            }
        }
        finally { model.Net.train(wasTraining); }
        return n == 0 ? new EvalResult(double.NaN, 0, 0, 0) : new EvalResult(loss / n, 100.0 * top1 / n, 100.0 * top5 / n, (int)n);
    }
}
