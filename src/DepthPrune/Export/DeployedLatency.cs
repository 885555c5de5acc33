using DepthPrune.Folding;
using DepthPrune.Models;
using DepthPrune.Runtime;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;

namespace DepthPrune.Export;

/// <summary>Median latency of one forward pass of the original and the folded network, measured
/// alternately, in one runtime at one batch size with the stated number of threads.</summary>
/// For ONNX Runtime, the weight layers (Conv, Gemm, MatMul nodes) of the two graphs that were timed.
public sealed record LatencyPoint(string Runtime, int Batch, int Threads, double OriginalMs, double FoldedMs,
    int? OriginalLayers = null, int? FoldedLayers = null)
{
    public double Ratio => FoldedMs / OriginalMs;
}

/// <summary>Latency where models are deployed: libtorch (the model as trained against the folded
/// network) and ONNX Runtime (both exported: the original with only its BatchNorms folded, as any
/// exporter does, against the folded one), at batch 1 and 64, on the threads libtorch uses.</summary>
public static class DeployedLatency
{
    public static readonly int[] Batches = [1, 64];

    public static IReadOnlyList<LatencyPoint> Measure(ZooModel model, IReadOnlyList<FoldStage> original, FoldedNet folded,
        IReadOnlyList<FoldStage> foldedStages, Device device, int repeats)
    {
        int threads = get_num_threads();
        var o = model.Options;
        using var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1 };
        // Two sessions timed in turn: spinning pool threads of one would steal the cores of the other.
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        var originalGraph = OnnxExport.Build(original, o, model.Name, device);
        var foldedGraph = OnnxExport.Build(foldedStages, o, model.Name, device);
        static int WeightLayers(Onnx.ModelProto graph) => graph.Graph.Node.Count(n => n.OpType is "Conv" or "Gemm" or "MatMul");
        using var originalSession = new InferenceSession(originalGraph.ToByteArray(), options);
        using var foldedSession = new InferenceSession(foldedGraph.ToByteArray(), options);
        var points = new List<LatencyPoint>();
        model.Net.eval();
        foreach (int batch in Batches)
        {
            using var scope = NewDisposeScope();
            var x = randn(batch, o.InChannels, o.InputSize, o.InputSize, device: device);
            var (torchOriginal, torchFolded) = FoldCheck.Latency(model.Net, folded, x, repeats);
            points.Add(new LatencyPoint("libtorch", batch, threads, torchOriginal * 1000, torchFolded * 1000));

            using var cpu = x.cpu().contiguous();
            var input = new[] { NamedOnnxValue.CreateFromTensor(OnnxExport.Input, new DenseTensor(cpu.data<float>().ToArray(), cpu.shape.Select(d => (int)d).ToArray())) };
            void Run(InferenceSession session) { using var results = session.Run(input); }
            var medians = Timing.Interleaved(repeats, () => Run(originalSession), () => Run(foldedSession));
            points.Add(new LatencyPoint("onnxruntime", batch, threads, medians[0] * 1000, medians[1] * 1000, WeightLayers(originalGraph), WeightLayers(foldedGraph)));
        }
        return points;
    }
}
