using static TorchSharp.torch;

namespace DepthPrune.Folding;

/// <summary>Merges affine layers applied one after the other (nothing non-linear between) into
/// one: linear after linear is exact; conv after conv gives a kernel k1 + (k2-1)s1 with stride
/// s1*s2. The bias is always exact (per position where the borders differ); the weights are
/// exact when the second conv has no padding or the first is an unpadded 1x1 conv (otherwise the
/// second's padding moves into the first, and the borders differ).</summary>
public static class ChainMerge
{
    /// <summary>Whether the pair can be merged at all (both linear, or both conv).</summary>
    public static bool CanMerge(AffineLayer first, AffineLayer second) => (first.Conv is null) == (second.Conv is null);

    /// <summary>What merging layers[from..to] into one layer would give, from shapes alone: MACs
    /// per image and whether it is exact.</summary>
    public static (long Macs, bool Exact) Preview(IReadOnlyList<AffineLayer> layers, int from, int to)
    {
        var first = layers[from];
        if (from == to) return (first.Macs, first.Exact);   // as it is, grouped or not
        bool exact = first.Exact;
        var geometry = first.Conv;
        for (int i = from + 1; i <= to; i++)
        {
            exact &= IsExact(geometry, layers[i]);
            if (geometry is not null) geometry = MergedGeometry(geometry, layers[i].Conv!);
        }
        long inputs = first.Weight.shape[1] * (first.Conv?.Groups ?? 1);
        long window = geometry is null ? 1 : geometry.Kernel[0] * geometry.Kernel[1];
        return (layers[to].Outputs * inputs * window * layers[to].Positions, exact);
    }

    /// <summary>The layer merging layers[from..to] would give, as a shape (the layer itself when from == to).</summary>
    public static LayerShape Shape(IReadOnlyList<AffineLayer> layers, int from, int to)
    {
        var shape = LayerShape.Of(layers[from]);
        if (from == to) return shape;
        var geometry = shape.Conv;
        for (int i = from + 1; i <= to && geometry is not null; i++) geometry = MergedGeometry(geometry, layers[i].Conv!);
        return shape with { Outputs = layers[to].Outputs, Conv = geometry };
    }

    /// <summary>Whether appending next to a layer of the given geometry (null: linear) keeps it exact.</summary>
    static bool IsExact(ConvGeometry? merged, AffineLayer next) =>
        next.Exact && (merged is null || next.Conv!.Padding.All(p => p == 0)
            || (merged.Kernel.All(k => k == 1) && merged.Padding.All(p => p == 0)));

    /// <summary>borderBias: keep a bias that differs at the borders as a [C, H, W] map (exact); else
    /// its interior value per channel (one Conv op with its bias, which runtimes fuse with the
    /// activation after it; the merge is then inexact at the borders).</summary>
    public static AffineLayer Merge(AffineLayer first, AffineLayer second, bool borderBias = true)
    {
        if (!CanMerge(first, second)) throw new ArgumentException($"{first.Name} -> {second.Name}: a conv and a linear layer do not merge");
        using var noGrad = no_grad();
        string name = first.Name + "+" + second.Name;
        bool exact = first.Exact && IsExact(first.Conv, second);
        var bias = AffineLayer.BiasOf(x => { using var y = first.Apply(x); return second.Apply(y); }, BiasProbe(first), first.Weight.device);
        if (!borderBias && bias.dim() == 3) (bias, exact) = (Interior(bias), false);
        if (first.Conv is null)
        {
            // W2 (W1 x + b1) + b2, the product in float64 as for convs below.
            using var product = second.Weight.to(ScalarType.Float64).matmul(first.Weight.to(ScalarType.Float64));
            return new AffineLayer(name, product.to(first.Weight.dtype), bias, null, exact) { InputShape = first.InputShape };
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
        return new AffineLayer(name, mergedWide.to(first.Weight.dtype), bias, MergedGeometry(a, b), exact) { InputShape = first.InputShape };
    }

    /// <summary>A residual block whose main path is one conv: out = main(x) + shortcut(x), with
    /// the shortcut the identity (null) or a conv, becomes one conv by adding the shortcut's
    /// kernel into the main kernel where it reads the same input pixels (the centre tap for the
    /// identity). Exact. Null when the geometry does not allow it (strides differ, or the
    /// shortcut's window does not sit inside the main one).</summary>
    public static AffineLayer? AddShortcut(AffineLayer main, AffineLayer? shortcut, bool borderBias = true)
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
        var bias = AffineLayer.BiasOf(x =>
        {
            using var y = main.Apply(x);
            return shortcut is null ? y.add(x) : y.add(shortcut.Apply(x));
        }, main.InputShape, weight.device);
        string name = main.Name + "+" + (shortcut?.Name ?? "identity");
        bool exact = main.Exact && (shortcut?.Exact ?? true);
        if (!borderBias && bias.dim() == 3) (bias, exact) = (Interior(bias), false);
        return new AffineLayer(name, weight, bias, m with { Groups = 1 }, exact) { InputShape = main.InputShape };
    }

    /// <summary>A [C, H, W] bias map's value at the centre, per channel.</summary>
    static Tensor Interior(Tensor map)
    {
        using (map) return map[.., map.shape[1] / 2, map.shape[2] / 2].clone();
    }

    /// <summary>The input the exact bias is measured on: a whole image for a conv (the borders
    /// matter), one row for a linear layer.</summary>
    static long[] BiasProbe(AffineLayer first) => first.Conv is null ? [first.Weight.shape[1]] : first.InputShape;

    static ConvGeometry MergedGeometry(ConvGeometry a, ConvGeometry b) => new(
        [.. Enumerable.Range(0, 2).Select(d => a.Kernel[d] + (b.Kernel[d] - 1) * a.Stride[d])],
        [.. Enumerable.Range(0, 2).Select(d => a.Stride[d] * b.Stride[d])],
        [.. Enumerable.Range(0, 2).Select(d => a.Padding[d] + b.Padding[d] * a.Stride[d])],
        1);

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
