using DepthPrune.Data;
using static TorchSharp.torch;

namespace DepthPrune.Folding;

/// <summary>How far a candidate network's outputs are from a reference's over a data set: top-1
/// of each, how often their predictions agree, and the largest output difference (absolute, and
/// relative to the largest reference output of its batch).</summary>
public sealed record OutputComparison(long Samples, double Top1Reference, double Top1Candidate, double Agreement, double MaxAbsDifference, double MaxRelativeDifference);

/// <summary>Accumulates an <see cref="OutputComparison"/> batch by batch.</summary>
public sealed class OutputTally
{
    /// <summary>Both networks over every batch of the loader (eval mode, no gradients).</summary>
    public static OutputComparison Over(BatchLoader loader, Func<Tensor, Tensor> reference, Func<Tensor, Tensor> candidate)
    {
        using var noGrad = no_grad();
        var tally = new OutputTally();
        foreach (var batch in loader.Epoch(0))
            using (batch)
            using (NewDisposeScope())
                tally.Add(reference(batch.Inputs).cpu(), candidate(batch.Inputs).cpu(), batch.Targets.cpu());
        return tally.Result();
    }

    long samples, rightReference, rightCandidate, agree;
    double maxAbs, maxRelative;

    public void Add(Tensor reference, Tensor candidate, Tensor targets)
    {
        using var scope = NewDisposeScope();
        double difference = (reference - candidate).abs().max().item<float>();
        maxAbs = Math.Max(maxAbs, difference);
        maxRelative = Math.Max(maxRelative, difference / Math.Max(reference.abs().max().item<float>(), 1e-12));
        var predictedReference = reference.argmax(1);
        var predictedCandidate = candidate.argmax(1);
        rightReference += predictedReference.eq(targets).sum().item<long>();
        rightCandidate += predictedCandidate.eq(targets).sum().item<long>();
        agree += predictedReference.eq(predictedCandidate).sum().item<long>();
        samples += targets.shape[0];
    }

    public OutputComparison Result() => samples == 0
        ? throw new InvalidOperationException("output comparison: the data set has no images")
        : new(samples, 100.0 * rightReference / samples, 100.0 * rightCandidate / samples, 100.0 * agree / samples, maxAbs, maxRelative);
}
