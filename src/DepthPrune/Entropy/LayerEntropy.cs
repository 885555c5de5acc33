namespace DepthPrune.Entropy;

/// <summary>The entropy of one activation layer over a data set.
/// OnFraction[i] is p_i; Entropy is H_l under the chosen estimator.</summary>
public sealed record LayerEntropy(
    string Name,
    int Neurons,
    double Entropy,
    int AlwaysOn,
    int AlwaysOff,
    long ObservationsPerNeuron,
    double[] OnFraction,
    double DatasetEntropy,
    double? BatchMeanEntropy,
    double NonConstantEntropy)
{
    /// <summary>Every neuron constant: the layer is exactly linear on the probed data.</summary>
    public bool IsZero => AlwaysOn + AlwaysOff == Neurons;

    /// <summary>The 0/1 mask that reproduces the layer on the probed data: 1 where always ON.</summary>
    public float[] LinearMask() => OnFraction.Select(p => p >= 1 ? 1f : 0f).ToArray();
}
