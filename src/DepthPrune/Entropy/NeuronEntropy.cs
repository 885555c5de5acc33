namespace DepthPrune.Entropy;

/// <summary>Binary entropy of an ON probability, in bits, with 0 log 0 = 0.</summary>
public static class NeuronEntropy
{
    public static double Bits(double p)
    {
        if (p <= 0 || p >= 1) return 0;
        return -p * Math.Log2(p) - (1 - p) * Math.Log2(1 - p);
    }
}
