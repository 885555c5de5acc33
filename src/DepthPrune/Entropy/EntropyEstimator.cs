namespace DepthPrune.Entropy;

/// <summary>How a layer's entropy is estimated from ON counts.</summary>
public enum EntropyEstimator
{
    /// <summary>p_i counted over the whole data set (the default; docs/METHODS.md, "Entropy estimator").</summary>
    Dataset,
    /// <summary>Mean over mini-batches of the per-batch layer entropy (the authors' released code).</summary>
    BatchMean,
    /// <summary>Dataset counts, averaged only over non-constant neurons (released EGP code); 0 if all are constant.</summary>
    NonConstant,
}
