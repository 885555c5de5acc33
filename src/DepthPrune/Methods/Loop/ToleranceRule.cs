using MathNet.Numerics.Distributions;

namespace DepthPrune.Methods;

/// <summary>A model's top-1 minus the dense model's on the same images, in points, with the
/// standard error of that paired difference and its one-sided bounds at the rule's confidence.</summary>
public sealed record PairedDifference(double Difference, double StandardError, double Lower, double Upper, int Images);

/// <summary>When a model counts as "within the tolerance" of the dense model. Both are evaluated on
/// the same images, so the difference is paired: only the images on which they disagree carry it,
/// and its noise is far smaller than two independent top-1 errors. The model is within tolerance
/// when the lower one-sided bound of the difference, at Confidence, lies at or above -Tolerance
/// (docs/METHODS.md, "Tolerance on unseen data"). Confidence 0.5 is the papers' rule: the point
/// estimate alone.</summary>
public sealed record ToleranceRule(double Tolerance, double Confidence)
{
    public const double DefaultConfidence = 0.95;

    /// <summary>The normal quantile of Confidence (0 at 0.5: the point estimate).</summary>
    public double Z => Confidence == 0.5 ? 0 : Normal.InvCDF(0, 1, Confidence);

    /// <summary>The paired difference of per-image top-1 hits (the same images, in the same order).
    /// Its variance comes from the four agree/disagree counts with half an image added to each
    /// (Agresti and Min, 2005), so that a handful of disagreements never gives a zero-width bound.</summary>
    public PairedDifference Compare(IReadOnlyList<bool> model, IReadOnlyList<bool> dense)
    {
        if (model.Count != dense.Count || model.Count == 0)
            throw new ArgumentException($"paired top-1 needs the same non-empty images: {model.Count} model hits, {dense.Count} dense hits");
        int n = model.Count, gained = 0, lost = 0, modelHits = 0, denseHits = 0;
        for (int i = 0; i < n; i++)
        {
            if (model[i]) modelHits++;
            if (dense[i]) denseHits++;
            if (model[i] && !dense[i]) gained++;
            else if (!model[i] && dense[i]) lost++;
        }
        // As top-1 is reported (100 hits / n), so that confidence 0.5 is exactly the point-estimate rule.
        double difference = 100.0 * modelHits / n - 100.0 * denseHits / n;
        double adjustedN = n + 2, b = (gained + 0.5) / adjustedN, c = (lost + 0.5) / adjustedN;
        double standardError = 100 * Math.Sqrt(Math.Max(0, b + c - (b - c) * (b - c)) / adjustedN);
        double margin = Z * standardError;
        return new PairedDifference(difference, standardError, difference - margin, difference + margin, n);
    }

    /// <summary>Within this fraction of the tolerance below dense, at the rule's confidence.</summary>
    public bool Within(PairedDifference d, double fraction = 1) => d.Lower >= -fraction * Tolerance;

    /// <summary>"-0.42 vs dense (95% bound -0.81)": a paired difference as the rule judges it.</summary>
    public string Judged(PairedDifference d) => Confidence == 0.5
        ? FormattableString.Invariant($"{d.Difference:+0.00;-0.00} vs dense")
        : FormattableString.Invariant($"{d.Difference:+0.00;-0.00} vs dense ({Confidence:0.##%} bound {d.Lower:+0.00;-0.00})");

    /// <summary>Why a run stopped when a model fell outside the rule.</summary>
    public string Broken => Confidence == 0.5
        ? $"top-1 fell more than {Tolerance} points below dense"
        : FormattableString.Invariant($"the lower {Confidence:0.##%} bound of top-1 minus dense fell below -{Tolerance} points");

    public string Describe(string split) => Confidence == 0.5
        ? FormattableString.Invariant($"{split} top-1 at most {Tolerance:0.##} points below dense (point estimate)")
        : FormattableString.Invariant($"the lower {Confidence:0.##%} bound of {split} top-1 minus dense (paired, same images) at most {Tolerance:0.##} points below zero");
}
