using DepthPrune.Export;
using DepthPrune.Models;
using DepthPrune.Runtime;
using DepthPrune.Training;
using static TorchSharp.torch;

namespace DepthPrune.Deployment;

/// <summary>A dense checkpoint exported as any exporter writes it (BatchNorms folded, nothing merged),
/// timed in ONNX Runtime side by side with each deployed ONNX file: the latency a deployment saves.</summary>
public static class DenseBaseline
{
    /// <summary>One list of latency points (batch 1 and 64) per deployed file; denseOnnx, if given, keeps the dense export.</summary>
    public static IReadOnlyList<IReadOnlyList<LatencyPoint>> Time(string densePath, IEnumerable<string> deployedOnnx, string? denseOnnx, Compute compute, int repeats)
    {
        using var dense = Checkpoint.Load(densePath, compute);
        var graph = Deployer.Exported(dense.Model, compute);
        if (denseOnnx is not null) OnnxExport.Write(graph, denseOnnx);
        return deployedOnnx.Select(path => OnnxPairTiming.Compare(graph, Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(path)), dense.Model.Options, get_num_threads(), repeats)).ToList();
    }

    /// <summary>Refuses, naming the flag, a dense checkpoint whose input differs from the deployed model's.</summary>
    public static void RequireSameInput(string flag, string densePath, ModelOptions deployed)
    {
        var o = Checkpoint.ReadMeta(densePath).ModelOptions;
        if (o.InChannels != deployed.InChannels || o.InputSize != deployed.InputSize)
            throw new UsageException($"{flag} {densePath}: takes {o.InChannels}x{o.InputSize}x{o.InputSize} images, the folded model {deployed.InChannels}x{deployed.InputSize}x{deployed.InputSize}");
    }
}
