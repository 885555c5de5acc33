using DepthPrune.Folding;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using static TorchSharp.torch;
using static DepthPrune.Export.OnnxGraph;
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;

namespace DepthPrune.Export;

/// <summary>What a layer costs at batch 1 in ONNX Runtime, measured: a graph of that one Conv (or
/// Gemm) with random weights, timed (median of <see cref="Repeats"/>) less the time of a graph that
/// only copies its input, in microseconds. The values do not change the time, so one timing serves
/// every layer of the same shape.</summary>
public sealed class OnnxLayerTimes : ILayerCost, IDisposable
{
    public const int Repeats = 200;

    readonly SessionOptions options;
    readonly Dictionary<string, double> cache = [];
    readonly Random random = new(7);

    public OnnxLayerTimes(int threads) => options = OnnxPairTiming.TimingOptions(threads);

    /// <summary>Distinct shapes timed so far.</summary>
    public int Timed => cache.Count;

    public double Of(LayerShape layer)
    {
        string key = Key(layer);
        if (!cache.TryGetValue(key, out double us))
            cache[key] = us = Math.Max(0, Microseconds(Graph(layer.InputShape, layer), layer.InputShape) - Microseconds(Graph(layer.InputShape, null), layer.InputShape));
        return us;
    }

    static string Key(LayerShape l) => $"{string.Join('x', l.InputShape)}|{l.Inputs}->{l.Outputs}|" +
        (l.Conv is { } c ? $"k{string.Join('x', c.Kernel)} s{string.Join('x', c.Stride)} p{string.Join('x', c.Padding)} g{c.Groups}" : "linear");

    double Microseconds(ModelProto graph, long[] inputShape)
    {
        int[] shape = [1, .. inputShape.Select(d => (int)d)];
        using var session = new InferenceSession(graph.ToByteArray(), options);
        var feed = new[] { NamedOnnxValue.CreateFromTensor(session.InputMetadata.Keys.Single(), new DenseTensor(OnnxPairTiming.RandomInput(shape, random), shape)) };
        return Runtime.Timing.Median(Repeats, () => { using var results = session.Run(feed); }) * 1e6;
    }

    /// <summary>One layer of this shape with random weights on an input of this shape (null: an
    /// Identity, the cost of running a graph at all).</summary>
    static ModelProto Graph(long[] input, LayerShape? layer)
    {
        var g = new OnnxGraph();
        g.Graph.Input.Add(Value("x", input));
        using var scope = NewDisposeScope();
        string y = layer switch
        {
            null => g.Node("Identity", ["x"]),
            { Conv: { } c } => g.Node("Conv", ["x", g.Constant("w", randn(layer.Outputs, layer.Inputs / c.Groups, c.Kernel[0], c.Kernel[1])), g.Constant("b", randn(layer.Outputs))],
                Ints("kernel_shape", c.Kernel), Ints("strides", c.Stride), Ints("pads", [c.Padding[0], c.Padding[1], c.Padding[0], c.Padding[1]]), Int("group", c.Groups)),
            // A linear layer on a flattened map, or on each token of [tokens, features].
            _ when layer.InputShape.Aggregate(1L, (a, b) => a * b) == layer.Inputs =>
                g.Node("Gemm", [g.Node("Flatten", ["x"], Int("axis", 1)), g.Constant("w", randn(layer.Outputs, layer.Inputs)), g.Constant("b", randn(layer.Outputs))], Int("transB", 1)),
            _ => g.Node("Add", [g.Node("MatMul", ["x", g.Constant("w", randn(layer.Inputs, layer.Outputs))]), g.Constant("b", randn(layer.Outputs))]),
        };
        g.Graph.Output.Add(new ValueInfoProto { Name = y, Type = FloatTensor() });
        var model = new ModelProto { IrVersion = 8, Graph = g.Graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = OnnxExport.Opset });
        return model;
    }

    static ValueInfoProto Value(string name, long[] shape)
    {
        var type = FloatTensor();
        type.TensorType.Shape = new TensorShapeProto();
        foreach (long d in (long[])[1, .. shape]) type.TensorType.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto { Name = name, Type = type };
    }

    static TypeProto FloatTensor() => new() { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float } };

    public void Dispose() => options.Dispose();
}
