namespace DepthPrune.Folding;

/// <summary>One layer a fold may produce, by shape alone: its input [C, H, W] (or [features]),
/// dense input and output channels, and its conv geometry (null: a linear layer). Enough to count
/// it or to time one like it.</summary>
public sealed record LayerShape(long[] InputShape, long Inputs, long Outputs, ConvGeometry? Conv)
{
    public static LayerShape Of(AffineLayer layer) =>
        new(layer.InputShape, layer.Weight.shape[1] * (layer.Conv?.Groups ?? 1), layer.Outputs, layer.Conv);

    /// <summary>Output positions per image: pixels of a conv, tokens (or 1) of a linear.</summary>
    public long Positions => Conv is { } c
        ? c.OutputLength(InputShape[1], 0) * c.OutputLength(InputShape[2], 1)
        : InputShape[..^1].Aggregate(1L, (a, b) => a * b);

    /// <summary>MACs per image, as <see cref="AffineLayer.Macs"/>.</summary>
    public long Macs => Outputs * (Inputs / (Conv?.Groups ?? 1)) * (Conv is { } c ? c.Kernel[0] * c.Kernel[1] : 1) * Positions;
}

/// <summary>What a layer costs when a fold under <see cref="FoldPolicy.OnnxRuntime"/> chooses how
/// to group a chain: the grouping with the least total cost wins. Export's OnnxLayerTimes times
/// each shape in ONNX Runtime; tests give hand-made costs.</summary>
public interface ILayerCost
{
    double Of(LayerShape layer);
}
