using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;

namespace DepthPrune.Export;

/// <summary>Two ONNX graphs timed in ONNX Runtime in turn on the same input (median of repeats
/// each): a ratio measured side by side, not two numbers taken at different moments.</summary>
public static class OnnxPairTiming
{
    public static int WeightLayers(Onnx.ModelProto graph) => graph.Graph.Node.Count(n => n.OpType is "Conv" or "Gemm" or "MatMul");

    /// <summary>Median milliseconds of (first, second) on one batch of the given input values.</summary>
    public static (double FirstMs, double SecondMs) Time(Onnx.ModelProto first, Onnx.ModelProto second, float[] input, int[] shape, int threads, int repeats)
    {
        using var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1 };
        // Two sessions timed in turn: spinning pool threads of one would steal the cores of the other.
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        using var firstSession = new InferenceSession(first.ToByteArray(), options);
        using var secondSession = new InferenceSession(second.ToByteArray(), options);
        var feed = new[] { NamedOnnxValue.CreateFromTensor(OnnxExport.Input, new DenseTensor(input, shape)) };
        void Run(InferenceSession session) { using var results = session.Run(feed); }
        var medians = Runtime.Timing.Interleaved(repeats, () => Run(firstSession), () => Run(secondSession));
        return (medians[0] * 1000, medians[1] * 1000);
    }

    /// <summary>Both graphs at batch 1 and 64 on seeded random input of the model's shape.</summary>
    public static IReadOnlyList<LatencyPoint> Compare(Onnx.ModelProto original, Onnx.ModelProto folded, Models.ModelOptions o, int threads, int repeats)
    {
        var random = new Random(7);
        var points = new List<LatencyPoint>();
        foreach (int batch in DeployedLatency.Batches)
        {
            int[] shape = [batch, o.InChannels, o.InputSize, o.InputSize];
            var input = new float[shape.Aggregate(1, (a, b) => a * b)];
            for (int i = 0; i < input.Length; i++) input[i] = (float)(random.NextDouble() * 2 - 1);
            var (a, b) = Time(original, folded, input, shape, threads, repeats);
            points.Add(new LatencyPoint("onnxruntime", batch, threads, a, b, WeightLayers(original), WeightLayers(folded)));
        }
        return points;
    }
}
