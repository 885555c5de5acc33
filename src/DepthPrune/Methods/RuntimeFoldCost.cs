using DepthPrune.Folding;
using DepthPrune.Export;
using DepthPrune.Models;
using Google.Protobuf;
using static TorchSharp.torch;

namespace DepthPrune.Methods;

/// <summary>The folded network's batch-1 time in ONNX Runtime, in thousandths of the time of the
/// network as it was when this was made (Baseline 1000), each candidate timed in turn with that
/// network on the same input (medians of <see cref="Repeats"/>): where MACs mislead (a depthwise
/// conv costs more per MAC than a dense one; at batch 1 every node costs a dispatch), the runtime
/// decides. A change that merges no layer costs exactly the baseline, untimed: its difference
/// would be noise.</summary>
public sealed class RuntimeFoldCost : IFoldCost
{
    public const int Repeats = 100;
    public const double Scale = 1000;

    readonly byte[] baselineGraph;
    readonly int baselineLayers, threads = get_num_threads();
    readonly float[] input;
    readonly int[] shape;

    public RuntimeFoldCost(ZooModel model)
    {
        var graph = Graph(model);
        baselineGraph = graph.ToByteArray();
        baselineLayers = OnnxPairTiming.WeightLayers(graph);
        var o = model.Options;
        shape = [1, o.InChannels, o.InputSize, o.InputSize];
        input = OnnxPairTiming.RandomInput(shape, new Random(7));
    }

    public double Baseline => Scale;
    public string Describe(double saving) => FormattableString.Invariant($"{saving / Scale:P1} of the batch-1 time in ONNX Runtime");

    public double Of(ZooModel model)
    {
        var graph = Graph(model);
        if (OnnxPairTiming.WeightLayers(graph) >= baselineLayers) return Scale;
        using var pair = new OnnxPairTiming(baselineGraph, graph.ToByteArray(), threads);
        var (before, after) = pair.Time(input, shape, Repeats);
        return Scale * after / before;
    }

    static Onnx.ModelProto Graph(ZooModel model)
    {
        using var scope = NewDisposeScope();
        var (stages, _) = Folder.Fold(Folder.Compile(model), FoldPolicy.Macs);
        return OnnxExport.Build(stages, model.Options, model.Name);
    }
}
