using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;

namespace DepthPrune.Export;

/// <summary>Two ONNX graphs timed in ONNX Runtime in turn on the same input (median of repeats
/// each): a ratio measured side by side, not two numbers taken at different moments. The two
/// sessions are built once and serve every batch size.</summary>
public sealed class OnnxPairTiming : IDisposable
{
    readonly SessionOptions options;
    readonly InferenceSession first, second;

    public OnnxPairTiming(Onnx.ModelProto first, Onnx.ModelProto second, int threads) : this(first.ToByteArray(), second.ToByteArray(), threads) { }

    public OnnxPairTiming(byte[] first, byte[] second, int threads)
    {
        options = TimingOptions(threads);
        this.first = new InferenceSession(first, options);
        this.second = new InferenceSession(second, options);
    }

    /// <summary>Session options for timing: sessions are timed in turn, and the spinning pool
    /// threads of one would steal the cores of the other.</summary>
    internal static SessionOptions TimingOptions(int threads)
    {
        var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1 };
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        return options;
    }

    /// <summary>Whether both graphs take a batch of this size (a file may fix its batch dimension).</summary>
    public bool TakesBatch(int batch) => new[] { first, second }.All(s => s.InputMetadata.Values.Single().Dimensions[0] is var d && (d <= 0 || d == batch));

    public static int WeightLayers(Onnx.ModelProto graph) => graph.Graph.Node.Count(n => n.OpType is "Conv" or "Gemm" or "MatMul");

    /// <summary>Median milliseconds of (first, second) on one batch of the given input values.</summary>
    public (double FirstMs, double SecondMs) Time(float[] input, int[] shape, int repeats)
    {
        NamedOnnxValue[] Feed(InferenceSession session) => [NamedOnnxValue.CreateFromTensor(session.InputMetadata.Keys.Single(), new DenseTensor(input, shape))];
        var (firstFeed, secondFeed) = (Feed(first), Feed(second));
        void Run(InferenceSession session, NamedOnnxValue[] feed) { using var results = session.Run(feed); }
        var medians = Runtime.Timing.Interleaved(repeats, () => Run(first, firstFeed), () => Run(second, secondFeed));
        return (medians[0] * 1000, medians[1] * 1000);
    }

    /// <summary>Both graphs at batch 1 and 64 on seeded random input of the model's shape.</summary>
    public static IReadOnlyList<LatencyPoint> Compare(Onnx.ModelProto original, Onnx.ModelProto folded, Models.ModelOptions o, int threads, int repeats)
    {
        using var pair = new OnnxPairTiming(original, folded, threads);
        var random = new Random(7);
        var points = new List<LatencyPoint>();
        foreach (int batch in DeployedLatency.Batches)
        {
            int[] shape = [batch, o.InChannels, o.InputSize, o.InputSize];
            var (a, b) = pair.Time(RandomInput(shape, random), shape, repeats);
            points.Add(new LatencyPoint("onnxruntime", batch, threads, a, b, WeightLayers(original), WeightLayers(folded)));
        }
        return points;
    }

    /// <summary>Uniform values in [-1, 1) for a tensor of this shape: timing needs an input, not an image.</summary>
    public static float[] RandomInput(int[] shape, Random random)
    {
        var input = new float[shape.Aggregate(1, (a, b) => a * b)];
        for (int i = 0; i < input.Length; i++) input[i] = (float)(random.NextDouble() * 2 - 1);
        return input;
    }

    public void Dispose()
    {
        first.Dispose();
        second.Dispose();
        options.Dispose();
    }
}
