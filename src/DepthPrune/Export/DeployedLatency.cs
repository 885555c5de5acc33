using DepthPrune.Folding;
using Google.Protobuf;
using DepthPrune.Models;
using DepthPrune.Runtime;
using static TorchSharp.torch;

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
/// exporter does, against the folded one), at batch 1 and 64, on the threads libtorch uses. An
/// imported network is also timed as the user's own file against the folded one (ImportedFile),
/// at the batch sizes that file takes.</summary>
public static class DeployedLatency
{
    public static readonly int[] Batches = [1, 64];

    /// <summary>The runtime label of the points that time the user's original ONNX file.</summary>
    public const string ImportedFile = "onnxruntime, imported file";

    public static IReadOnlyList<LatencyPoint> Measure(ZooModel model, IReadOnlyList<FoldStage> original, FoldedNet folded,
        IReadOnlyList<FoldStage> foldedStages, Device device, int repeats)
    {
        int threads = get_num_threads();
        var o = model.Options;
        var originalGraph = OnnxExport.Build(original, o, model.Name, device);
        var foldedGraph = OnnxExport.Build(foldedStages, o, model.Name, device);
        using var onnx = new OnnxPairTiming(originalGraph, foldedGraph, threads);
        using var imported = model.OnnxSource is { } file ? new OnnxPairTiming(file, foldedGraph.ToByteArray(), threads) : null;
        int? importedLayers = model.OnnxSource is { } bytes ? OnnxPairTiming.WeightLayers(Onnx.ModelProto.Parser.ParseFrom(bytes)) : null;
        var points = new List<LatencyPoint>();
        model.Net.eval();
        foreach (int batch in Batches)
        {
            using var scope = NewDisposeScope();
            var x = randn(batch, o.InChannels, o.InputSize, o.InputSize, device: device);
            var (torchOriginal, torchFolded) = FoldCheck.Latency(model.Net, folded, x, repeats);
            points.Add(new LatencyPoint("libtorch", batch, threads, torchOriginal * 1000, torchFolded * 1000));
            using var cpu = x.cpu().contiguous();
            var (input, shape) = (cpu.data<float>().ToArray(), cpu.shape.Select(d => (int)d).ToArray());
            var (a, b) = onnx.Time(input, shape, repeats);
            points.Add(new LatencyPoint("onnxruntime", batch, threads, a, b, OnnxPairTiming.WeightLayers(originalGraph), OnnxPairTiming.WeightLayers(foldedGraph)));
            if (imported is null || !imported.TakesBatch(batch)) continue;
            var (fileMs, foldedMs) = imported.Time(input, shape, repeats);
            points.Add(new LatencyPoint(ImportedFile, batch, threads, fileMs, foldedMs, importedLayers, OnnxPairTiming.WeightLayers(foldedGraph)));
        }
        return points;
    }
}
