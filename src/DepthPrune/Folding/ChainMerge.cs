using static TorchSharp.torch;

namespace DepthPrune.Folding;

/// <summary>Merges two affine layers applied one after the other (nothing non-linear between)
/// into one: linear after linear is exact; conv after conv gives a kernel k1 + (k2-1)s1 with
/// stride s1*s2, exact when the second conv has no padding (its padding otherwise moves into
/// the first, and the borders differ).</summary>
public static class ChainMerge
{
    /// <summary>Whether the pair can be merged at all (both linear, or both conv).</summary>
    public static bool CanMerge(AffineLayer first, AffineLayer second) => (first.Conv is null) == (second.Conv is null);

    /// <summary>MACs per output position of the pair kept apart, and of the merged layer.</summary>
    public static (long Apart, long Merged) Macs(AffineLayer first, AffineLayer second)
    {
        if (first.Conv is null || second.Conv is null)
            return (first.MacsPerOutput + second.MacsPerOutput, second.Outputs * first.Weight.shape[1]);
        long inputs = first.Weight.shape[1] * first.Conv.Groups;
        var (kernel, stride, _) = MergedGeometry(first.Conv, second.Conv);
        // The first conv runs stride2^2 times per output position of the second.
        long firstRuns = second.Conv.Stride[0] * second.Conv.Stride[1];
        return (first.MacsPerOutput * firstRuns + second.MacsPerOutput, second.Outputs * inputs * kernel[0] * kernel[1]);
    }

    /// <summary>Whether the merged layer computes exactly what the pair computes: both exact, and
    /// (for convs) no padding in the second.</summary>
    public static bool IsExact(AffineLayer first, AffineLayer second) =>
        first.Exact && second.Exact && (second.Conv is null || second.Conv.Padding.All(p => p == 0));

    public static AffineLayer Merge(AffineLayer first, AffineLayer second)
    {
        if (!CanMerge(first, second)) throw new ArgumentException($"{first.Name} -> {second.Name}: a conv and a linear layer do not merge");
        using var noGrad = no_grad();
        string name = first.Name + "+" + second.Name;
        if (first.Conv is null)
        {
            // W2 (W1 x + b1) + b2
            var weight = second.Weight.matmul(first.Weight);
            var bias = second.Weight.matmul(first.Bias).add_(second.Bias);
            return new AffineLayer(name, weight, bias, null, IsExact(first, second));
        }
        var (a, b) = (first.Conv, second.Conv!);
        using var w1 = Dense(first.Weight, a.Groups);
        using var w2 = Dense(second.Weight, b.Groups);
        // Composing correlations: M[o,i,u] = sum_h sum_v W2[o,h,v] W1[h,i,u - v*s1], which is the
        // transposed conv of W2 (batch o, channels h) with kernel W1 and stride s1. In float64,
        // which libtorch computes without oneDNN (see NativeSettings), and more precisely.
        using var w1Wide = w1.to(ScalarType.Float64);
        using var w2Wide = w2.to(ScalarType.Float64);
        using var mergedWide = nn.functional.conv_transpose2d(w2Wide, w1Wide, strides: a.Stride);
        var merged = mergedWide.to(first.Weight.dtype);
        // The first bias is a constant map: the second conv sums it over its whole kernel.
        using var kernelSums = w2.sum([2, 3]);
        var mergedBias = kernelSums.matmul(first.Bias).add_(second.Bias);
        var (kernel, stride, padding) = MergedGeometry(a, b);
        return new AffineLayer(name, merged, mergedBias, new ConvGeometry(kernel, stride, padding, 1), IsExact(first, second));
    }

    /// <summary>A residual block whose main path is one conv: out = main(x) + shortcut(x), with
    /// the shortcut the identity (null) or a conv, becomes one conv by adding the shortcut's
    /// kernel into the main kernel where it reads the same input pixels (the centre tap for the
    /// identity). Exact. Null when the geometry does not allow it (strides differ, or the
    /// shortcut's window does not sit inside the main one).</summary>
    public static AffineLayer? AddShortcut(AffineLayer main, AffineLayer? shortcut)
    {
        if (main.Conv is not { } m || shortcut is { Conv: null }) return null;
        long inputs = main.Weight.shape[1] * m.Groups;
        var s = shortcut?.Conv ?? new ConvGeometry([1, 1], [1, 1], [0, 0], 1);
        if (shortcut is null && inputs != main.Outputs) return null;
        if (!m.Stride.SequenceEqual(s.Stride)) return null;
        long[] offset = [m.Padding[0] - s.Padding[0], m.Padding[1] - s.Padding[1]];
        if (Enumerable.Range(0, 2).Any(d => offset[d] < 0 || offset[d] + s.Kernel[d] > m.Kernel[d])) return null;
        using var noGrad = no_grad();
        var weight = Dense(main.Weight, m.Groups);
        using var shortcutWeight = shortcut is null
            ? eye(inputs, device: weight.device).reshape(inputs, inputs, 1, 1)
            : Dense(shortcut.Weight, s.Groups);
        weight[.., .., TensorIndex.Slice(offset[0], offset[0] + s.Kernel[0]), TensorIndex.Slice(offset[1], offset[1] + s.Kernel[1])].add_(shortcutWeight);
        var bias = shortcut is null ? main.Bias.clone() : main.Bias + shortcut.Bias;
        string name = main.Name + "+" + (shortcut?.Name ?? "identity");
        return new AffineLayer(name, weight, bias, m with { Groups = 1 }, main.Exact && (shortcut?.Exact ?? true));
    }

    static (long[] Kernel, long[] Stride, long[] Padding) MergedGeometry(ConvGeometry a, ConvGeometry b) =>
        ([.. Enumerable.Range(0, 2).Select(d => a.Kernel[d] + (b.Kernel[d] - 1) * a.Stride[d])],
         [.. Enumerable.Range(0, 2).Select(d => a.Stride[d] * b.Stride[d])],
         [.. Enumerable.Range(0, 2).Select(d => a.Padding[d] + b.Padding[d] * a.Stride[d])]);

    /// <summary>A grouped conv weight [out, in/g, kh, kw] as the dense [out, in, kh, kw] it equals.</summary>
    static Tensor Dense(Tensor weight, long groups)
    {
        if (groups == 1) return weight.clone();
        long outputs = weight.shape[0], perGroupIn = weight.shape[1], perGroupOut = outputs / groups;
        var dense = zeros([outputs, perGroupIn * groups, weight.shape[2], weight.shape[3]], device: weight.device);
        for (long g = 0; g < groups; g++)
            dense[TensorIndex.Slice(g * perGroupOut, (g + 1) * perGroupOut), TensorIndex.Slice(g * perGroupIn, (g + 1) * perGroupIn)]
                .copy_(weight[TensorIndex.Slice(g * perGroupOut, (g + 1) * perGroupOut)]);
        return dense;
    }
}
