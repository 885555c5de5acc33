using DepthPrune.Deployment;
using DepthPrune.Export;
using DepthPrune.Methods;
using DepthPrune.Runtime;
using DepthPrune.Training;
using static TorchSharp.torch;

namespace DepthPrune.Cli.Commands;

/// <summary>The table `compress` ends with: the dense model against the deployed one, both as ONNX
/// timed side by side in ONNX Runtime (the dense one exported as any exporter would, RUN/dense.onnx).</summary>
static class CompressSummary
{
    public static void Write(TextWriter output, RunRecord run, DeploymentReport deployed, string densePath, string outDir, Compute compute, bool json)
    {
        using var dense = Checkpoint.Load(densePath, compute);
        var denseGraph = Deployer.Exported(dense.Model, compute);
        string denseOnnx = Path.Combine(outDir, "dense.onnx");
        OnnxExport.Write(denseGraph, denseOnnx);
        var deployedGraph = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(deployed.OnnxPath!));
        var latency = OnnxPairTiming.Compare(denseGraph, deployedGraph, dense.Model.Options, get_num_threads(), DeploySettings.DefaultLatencyRepeats);
        var d = run.Dense!;
        if (json)
        {
            output.WriteLine(JsonOut.Serialize(new
            {
                method = run.Method, recipe = run.Recipe, removed = run.Iterations.LastOrDefault(i => i.Iteration == run.BestIteration)?.Removed ?? 0, total = run.Total,
                top1_dense = run.DenseTop1, top1_deployed = deployed.Test.Top1Candidate, depth_dense = d.Depth, depth_deployed = deployed.Folded.Depth,
                macs_dense = d.Macs, macs_deployed = deployed.Folded.Macs, dense_onnx = denseOnnx, deployed_onnx = deployed.OnnxPath,
                onnxruntime = latency.Select(p => new { batch = p.Batch, threads = p.Threads, dense_ms = p.OriginalMs, deployed_ms = p.FoldedMs, ratio = p.Ratio }).ToList(),
            }));
            return;
        }
        output.WriteLine();
        output.WriteLine($"compress: {run.Model}, {run.Method} under the {run.Recipe ?? "given"} settings, on {run.Dataset}");
        output.WriteLine($"{"",-22} {"dense",14} {"deployed",14}");
        output.WriteLine($"{"test top-1",-22} {run.DenseTop1,14:F2} {deployed.Test.Top1Candidate,14:F2}  ({deployed.Test.Top1Candidate - run.DenseTop1:+0.00;-0.00} points)");
        output.WriteLine($"{"depth",-22} {d.Depth,14} {deployed.Folded.Depth,14}");
        output.WriteLine($"{"MACs per image",-22} {d.Macs,14:N0} {deployed.Folded.Macs,14:N0}");
        foreach (var p in latency)
            output.WriteLine($"{$"ONNX Runtime batch {p.Batch}",-22} {p.OriginalMs,11:F3} ms {p.FoldedMs,11:F3} ms  ({p.Ratio:F3}x, {p.Threads} threads, median of {DeploySettings.DefaultLatencyRepeats})");
        output.WriteLine($"{"ONNX",-22} {denseOnnx}  {deployed.OnnxPath}");
    }
}
