using System.Text.Json;
using DepthPrune.Entropy;
using DepthPrune.Models;
using DepthPrune.Models.Graph;
using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;

namespace DepthPrune.Tests.Models;

/// <summary>A network torch.onnx.export wrote (tests/fixtures/onnx/make_fixtures.py), with the
/// inputs and PyTorch's logits and rectifier statistics on them.</summary>
sealed class OnnxFixture
{
    public static readonly string[] Names =
    [
        "resnet18.opset13", "resnet18.opset17", "mobilenet_v2.opset13", "mobilenet_v2.opset17", "vgg11_bn.opset13",
        "mobilenet_v3_small.opset13", "squeezenet1_1.opset13", "shufflenet_v2.opset13", "convnext.opset13", "convnext.opset17", "prelu_net.opset13",
    ];

    public static IEnumerable<object[]> All() => Names.Select(n => new object[] { n });

    public sealed record Rectifier(int Neurons, double[] OnFraction, double Entropy);

    public string Path { get; }
    public long[] InputShape { get; }
    public float[] Inputs { get; }
    public float[] Logits { get; }
    /// <summary>The PyTorch model's parameter count (the exporter folds BatchNorm away, so this is
    /// the imported count only for networks without BatchNorm).</summary>
    public long Parameters { get; }
    public IReadOnlyList<Rectifier> Rectifiers { get; }

    public OnnxFixture(string name)
    {
        string stem = System.IO.Path.Combine(Foundation.PackageTests.RepoRoot(), "tests", "fixtures", "onnx", name);
        Path = stem + ".onnx";
        using var json = JsonDocument.Parse(File.ReadAllText(stem + ".json"));
        var root = json.RootElement;
        InputShape = root.GetProperty("input_shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        Inputs = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(stem + ".input.bin")).ToArray();
        Parameters = root.GetProperty("parameters").GetInt64();
        Logits = root.GetProperty("logits").EnumerateArray().Select(e => (float)e.GetDouble()).ToArray();
        Rectifiers = root.GetProperty("rectifiers").EnumerateArray().Select(r => new Rectifier(
            r.GetProperty("neurons").GetInt32(),
            r.GetProperty("on_fraction").EnumerateArray().Select(e => e.GetDouble()).ToArray(),
            r.GetProperty("entropy").GetDouble())).ToList();
    }

    public ZooModel Import() => OnnxImport.Read(Path);

    public Tensor InputTensor() => tensor(Inputs).reshape(InputShape);

    /// <summary>ONNX Runtime's output for an ONNX file on these inputs (its first input and output).</summary>
    public float[] RunInOnnxRuntime(string onnxPath)
    {
        using var session = new InferenceSession(onnxPath);
        var input = new DenseTensor(Inputs, InputShape.Select(d => (int)d).ToArray());
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(session.InputMetadata.Keys.First(), input)]);
        return results.First().AsTensor<float>().ToArray();
    }

    /// <summary>Each rectifier's statistics on x, in the order the network runs them (PyTorch
    /// lists its hooks' calls in that order too).</summary>
    public static List<LayerEntropy> MeasureInExecutionOrder(ZooModel model, Tensor x)
    {
        var order = new List<string>();
        var counters = model.Slots.ToDictionary(s => s.Key, s => new NeuronCounter(s.Value.Channels, false));
        try
        {
            foreach (var (name, slot) in model.Slots) slot.Observer = new InOrder(name, counters[name], order);
            model.Net.eval();
            using var noGrad = no_grad();
            using var y = model.Net.call(x);
            return order.Select(s => counters[s].Result(s, EntropyEstimator.Dataset)).ToList();
        }
        finally
        {
            foreach (var slot in model.Slots.Values) slot.Observer = null;
            foreach (var c in counters.Values) c.Dispose();
        }
    }

    sealed class InOrder(string name, IActivationObserver inner, List<string> order) : IActivationObserver
    {
        public void Observe(Tensor preActivation, int channelDim)
        {
            order.Add(name);
            inner.Observe(preActivation, channelDim);
        }
    }

    /// <summary>Largest difference relative to the largest magnitude of the reference.</summary>
    public static double RelativeError(float[] actual, float[] expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        return expected.Zip(actual, (e, a) => Math.Abs((double)e - a)).Max() / expected.Max(e => Math.Abs((double)e));
    }
}
