using DepthPrune.Runtime;
using Google.Protobuf;
using Onnx;
using static TorchSharp.torch;

namespace DepthPrune.Models.Import;

/// <summary>Imports conv + BatchNorm weights from an ONNX graph whose tensors have generic names
/// (such as the CNTK-exported ImageNet ResNet-18 in Microsoft.ML.DnnImageFeaturizer.ResNet18):
/// the graph is walked, each Conv is paired with the BatchNormalization that consumes it, and
/// the pairs are matched in order to the model's conv/BN layers separately for 1x1 kernels and
/// for larger ones (exporters may emit a block's 1x1 shortcut before its main path).</summary>
public static class OnnxConvBnImport
{
    sealed record ConvBn(string Conv, TensorProto Weight, TensorProto? Bias, TensorProto[]? Norm, float Epsilon);

    /// <summary>Loads every conv/BN tensor; refuses (naming them) the model's tensors the graph
    /// cannot fill, unless their keys start with an ignored prefix (e.g. "fc." for a new head).</summary>
    public static ImportReport Apply(ZooModel model, string onnxPath, IReadOnlyList<string>? ignore = null)
    {
        if (!File.Exists(onnxPath)) throw new UsageException($"--weights {onnxPath}: file not found");
        ModelProto proto;
        try { proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(onnxPath)); }
        catch (InvalidProtocolBufferException e) { throw new DataFormatException($"{onnxPath}: not an ONNX model ({e.Message})"); }
        var graph = proto.Graph;
        var initializers = graph.Initializer.ToDictionary(t => t.Name);
        var consumers = graph.Node.Where(n => n.OpType == "BatchNormalization").ToDictionary(n => n.Input[0]);
        var found = new List<ConvBn>();
        foreach (var node in graph.Node.Where(n => n.OpType == "Conv"))
        {
            TensorProto Init(string name) => initializers.TryGetValue(name, out var t) ? t
                : throw new DataFormatException($"{onnxPath}: conv {node.Name} input '{name}' is not an initializer");
            var bias = node.Input.Count > 2 ? Init(node.Input[2]) : null;
            TensorProto[]? norm = null;
            float eps = 1e-5f;
            if (consumers.TryGetValue(node.Output[0], out var bn))
            {
                norm = bn.Input.Skip(1).Select(Init).ToArray();
                eps = bn.Attribute.FirstOrDefault(a => a.Name == "epsilon")?.F ?? 1e-5f;
            }
            found.Add(new ConvBn(node.Output[0], Init(node.Input[1]), bias, norm, eps));
        }

        var layers = model.Structure.WeightLayers.Where(l => model.Module(l.Module) is TorchSharp.Modules.Conv2d).ToList();
        static bool Pointwise(long[] shape) => shape[2] == 1 && shape[3] == 1;
        var targets = layers.GroupBy(l => Pointwise(model.Weight(l).shape)).ToDictionary(g => g.Key, g => g.ToList());
        var sources = found.GroupBy(f => Pointwise(f.Weight.Dims.ToArray())).ToDictionary(g => g.Key, g => g.ToList());
        var mismatched = new List<string>();
        foreach (bool kind in new[] { true, false })
        {
            int t = targets.GetValueOrDefault(kind)?.Count ?? 0, s = sources.GetValueOrDefault(kind)?.Count ?? 0;
            if (t != s) mismatched.Add($"{(kind ? "1x1" : "kxk")} convs: model has {t}, {Path.GetFileName(onnxPath)} has {s}");
        }
        if (mismatched.Count > 0) throw new DataFormatException($"{onnxPath}: graph does not fit {model.Name}: {string.Join("; ", mismatched)}");

        var filled = new HashSet<string>();
        int Copy(Tensor target, TensorProto source, string name, string path)
        {
            CopyTensor(target, source, name, path);
            filled.Add(name);
            return 1;
        }
        int loaded = 0;
        using (no_grad())
            foreach (bool kind in targets.Keys)
                foreach (var (layer, source) in targets[kind].Zip(sources[kind]))
                {
                    loaded += Copy(model.Weight(layer), source.Weight, $"{layer.Module}.weight", onnxPath);
                    var conv = (TorchSharp.Modules.Conv2d)model.Module(layer.Module);
                    if (source.Bias is not null && conv.bias is not null) loaded += Copy(conv.bias, source.Bias, $"{layer.Module}.bias", onnxPath);
                    if (layer.Norm is null || source.Norm is null) continue;
                    var bn = (TorchSharp.Modules.BatchNorm2d)model.Module(layer.Norm);
                    loaded += Copy(bn.weight!, source.Norm[0], $"{layer.Norm}.weight", onnxPath);
                    loaded += Copy(bn.bias!, source.Norm[1], $"{layer.Norm}.bias", onnxPath);
                    loaded += Copy(bn.running_mean!, source.Norm[2], $"{layer.Norm}.running_mean", onnxPath);
                    loaded += Copy(bn.running_var!, source.Norm[3], $"{layer.Norm}.running_var", onnxPath);
                    if (Math.Abs(source.Epsilon - bn.eps) > 1e-9)
                        throw new DataFormatException($"{onnxPath}: BatchNorm after {source.Conv} uses epsilon {source.Epsilon}, {layer.Norm} uses {bn.eps}");
                }
        var missing = model.Net.state_dict().Keys
            .Where(k => !filled.Contains(k) && !k.EndsWith("num_batches_tracked") && ignore?.Any(k.StartsWith) != true).ToList();
        var report = new ImportReport(onnxPath, loaded, missing, [], []);
        if (!report.Complete) throw new DataFormatException($"{report.Describe()}: the graph's conv/BN tensors do not fill {model.Name} (--ignore PREFIX leaves a part, e.g. a new classifier, at its initial weights)");
        return report;
    }

    static void CopyTensor(Tensor target, TensorProto source, string name, string path)
    {
        long[] dims = source.Dims.ToArray();
        if (!dims.SequenceEqual(target.shape))
            throw new DataFormatException($"{path}: {name} is [{string.Join(",", target.shape)}] but the graph gives [{string.Join(",", dims)}]");
        float[] values = source.FloatData.Count > 0 ? source.FloatData.ToArray()
            : Enumerable.Range(0, source.RawData.Length / 4).Select(i => BitConverter.ToSingle(source.RawData.Span.Slice(i * 4, 4))).ToArray();
        if (values.Any(v => !float.IsFinite(v))) throw new DataFormatException($"{path}: {name} holds NaN or infinite values");
        using var t = tensor(values).reshape(dims);
        target.copy_(t);
    }
}
