using DepthPrune.Data;
using DepthPrune.Models;
using DepthPrune.Training;

namespace DepthPrune.Methods;

/// <summary>The check that ends a fine-tune once validation top-1 is back within EarlyStop x
/// tolerance of dense, or within the tolerance and no better than at the check before. A trial
/// (an iteration a failure rolls back) also gives up once clearly failing, so a failed attempt
/// costs half an epoch or one, not the whole cap; several removals at once are given up unless
/// back by half an epoch.</summary>
public static class RecoveryCheck
{
    public const string Recovered = "recovered", Plateau = "within tolerance, no longer improving", GaveUp = "gave up";

    /// <summary>The check for one fine-tune, or null when fine-tunes run their whole schedule
    /// (no --early-stop, or no validation split to judge on).</summary>
    public static EarlyStop? For(ZooModel model, MethodOptions options, BatchLoader? validation, IReadOnlyList<bool>? denseHits,
        double denseScore, int batchesPerEpoch, Trial trial, Action<string> log)
    {
        if (options.EarlyStop is not double fraction || validation is null || denseHits is null) return null;
        var rule = options.Rule;
        // Give-up points in epochs, whatever the check spacing: at or after half an epoch, and one epoch.
        int half = TrainOptions.BatchesPer(0.5, batchesPerEpoch), one = TrainOptions.BatchesPer(1, batchesPerEpoch);
        double? previous = null;   // not kept in checkpoints: a fine-tune resumed mid-way needs one more check to see a plateau
        string? Verdict(double top1, PairedDifference difference, long position)
        {
            bool plateau = previous is double p && top1 <= p;
            previous = top1;
            if (rule.Within(difference, fraction)) return Recovered;
            if (plateau && rule.Within(difference)) return Plateau;
            // Clearly failing: twice the tolerance down after half an epoch, or still outside it after
            // one. Several removals get half an epoch: falling back to fewer costs less than waiting.
            bool hopeless = position >= half && top1 < denseScore - (trial == Trial.Several ? 1 : 2) * options.Tolerance
                || position >= one && top1 < denseScore - options.Tolerance;
            return trial != Trial.None && hopeless ? GaveUp : null;
        }
        return new EarlyStop
        {
            EveryBatches = TrainOptions.BatchesPer(options.EarlyStopEvery, batchesPerEpoch),
            Check = position =>
            {
                var hits = new List<bool>();
                double top1 = Evaluation.Run(model, validation, hits).Top1;
                var difference = rule.Compare(hits, denseHits);
                string? reason = Verdict(top1, difference, position);
                log(FormattableString.Invariant($"  check after {(double)position / batchesPerEpoch:0.##} epochs: validation {top1:F2}%, {rule.Judged(difference)} (recovered at {-fraction * options.Tolerance:F2}){(reason is null ? "" : ": " + reason)}"));
                return reason;
            },
        };
    }
}
