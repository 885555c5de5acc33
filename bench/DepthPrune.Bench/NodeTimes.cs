using System.Text.Json;
using DepthPrune.Export;
using Microsoft.ML.OnnxRuntime;
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;

namespace DepthPrune.Bench;

/// <summary>Where an ONNX file's batch-1 time goes in ONNX Runtime: its profiler's kernel time of
/// every node after the runtime's own graph rewrites (fusions, layout reorders), median over the
/// passes; the total per op type and the costliest nodes with their shapes.</summary>
static class NodeTimes
{
    public static void Run(string path, int threads, int passes)
    {
        using var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1, EnableProfiling = true };
        options.ProfileOutputPathPrefix = Path.Combine(Path.GetTempPath(), "depthprune-node-times");
        using var session = new InferenceSession(path, options);
        var (name, meta) = session.InputMetadata.Single();
        int[] shape = [.. meta.Dimensions.Select(d => d <= 0 ? 1 : d)];
        var feed = new[] { NamedOnnxValue.CreateFromTensor(name, new DenseTensor(OnnxPairTiming.RandomInput(shape, new Random(7)), shape)) };
        for (int i = 0; i < passes; i++) using (session.Run(feed)) { }
        string trace = session.EndProfiling();
        using var events = JsonDocument.Parse(File.ReadAllText(trace));
        File.Delete(trace);
        var nodes = events.RootElement.EnumerateArray()
            .Where(e => e.GetProperty("cat").GetString() == "Node" && e.GetProperty("name").GetString()!.EndsWith("_kernel_time"))
            .GroupBy(e => e.GetProperty("name").GetString()!)
            .Select(g => new Node(g.Key[..^"_kernel_time".Length], g.First().GetProperty("args").GetProperty("op_name").GetString()!,
                Shapes(g.First().GetProperty("args")), Median(g.Select(e => e.GetProperty("dur").GetDouble()))))
            .ToList();
        Console.WriteLine($"{path}: {nodes.Count} nodes after ONNX Runtime's rewrites, {threads} threads, batch {shape[0]}, median of {passes} passes each; kernel time {nodes.Sum(n => n.Micros):F0} us");
        foreach (var op in nodes.GroupBy(n => n.Op).OrderByDescending(g => g.Sum(n => n.Micros)))
            Console.WriteLine($"  {op.Key,-20} {op.Count(),3} nodes {op.Sum(n => n.Micros),7:F0} us ({op.Average(n => n.Micros):F1} us a node)");
        Console.WriteLine("  costliest nodes:");
        foreach (var n in nodes.OrderByDescending(n => n.Micros).Take(8))
            Console.WriteLine($"  {n.Micros,7:F0} us  {n.Op,-14} {n.Shapes}");
    }

    sealed record Node(string Name, string Op, string Shapes, double Micros);

    static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    /// <summary>Input shapes -> output shapes, as the profiler records them.</summary>
    static string Shapes(JsonElement args)
    {
        static string Of(JsonElement list) => string.Join(", ", list.EnumerateArray().Select(t => "[" + string.Join(",", t.EnumerateObject().First().Value.EnumerateArray().Select(d => d.GetInt64())) + "]"));
        return $"{Of(args.GetProperty("input_type_shape"))} -> {Of(args.GetProperty("output_type_shape"))}";
    }
}
