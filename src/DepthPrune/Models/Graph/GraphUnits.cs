using System.Text.RegularExpressions;
using Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using static DepthPrune.Models.Graph.OnnxValues;

namespace DepthPrune.Models.Graph;

public enum UnitKind
{
    /// <summary>A conv (with the BatchNorm right after it), a gemm or a matmul (with its bias add).</summary>
    Weight,
    /// <summary>A rectifier: a removable activation slot.</summary>
    Activation,
    /// <summary>A one-input op run as a module (pooling, flatten, a lone BatchNorm, a gate).</summary>
    Op,
    /// <summary>A node on several values (add, concat, product) or with several outputs (split).</summary>
    Join,
}

/// <summary>One or a few ONNX nodes that become one element of the structure.</summary>
public sealed class GraphUnit
{
    public required string Name { get; init; }
    public required UnitKind Kind { get; init; }
    public required NodeProto Node { get; init; }
    /// <summary>The values from the data path it reads, in input order.</summary>
    public required IReadOnlyList<string> DataInputs { get; init; }
    public required IReadOnlyList<string> Outputs { get; init; }
    /// <summary>Its modules, applied one after the other (conv then BatchNorm); none for a join.</summary>
    public IReadOnlyList<(string Name, Module<Tensor, Tensor> Module)> Modules { get; init; } = [];

    /// <summary>The program steps that run it.</summary>
    public IEnumerable<(string Name, GraphStep Step)> Steps()
    {
        if (Modules.Count == 0)
        {
            yield return (Name, new GraphStep([.. Node.Input], [.. Node.Output], null, Node));
            yield break;
        }
        string value = DataInputs[0];
        for (int i = 0; i < Modules.Count; i++)
        {
            string next = i == Modules.Count - 1 ? Outputs[0] : $"{Name}:{i}";
            yield return (Modules[i].Name, new GraphStep([value], [next], Modules[i].Module, null));
            value = next;
        }
    }

    /// <summary>Its structure node; prefix is the path of the region that holds it ("" at the top).</summary>
    public Node Describe(string prefix) => Kind switch
    {
        UnitKind.Weight => new WeightNode(prefix + Modules[0].Name, Modules.Count > 1 ? prefix + Modules[1].Name : null),
        UnitKind.Activation => new ActNode(prefix + Modules[0].Name),
        UnitKind.Op => new OpNode(prefix + Modules[0].Name),
        _ => throw new InvalidOperationException($"{Name}: a join has no node of its own"),
    };
}

/// <summary>Groups an imported graph's data nodes into units and builds their modules with the
/// file's weights.</summary>
sealed class GraphUnits
{
    readonly IReadOnlyDictionary<string, Tensor> constants;
    readonly IReadOnlyDictionary<string, long[]> shapes;
    readonly ILookup<string, NodeProto> consumers;
    readonly string graphOutput, source;
    readonly Names names = new();
    readonly List<GraphUnit> units = [];
    readonly HashSet<NodeProto> fused = [];
    readonly IReadOnlySet<string> initializers;

    /// <summary>Ops whose multi-valued float initializers are learned weights, not fixed values.</summary>
    static readonly HashSet<string> TrainableOps = ["Add", "Sub", "Mul", "Div", "LayerNormalization"];

    GraphUnits(List<NodeProto> nodes, IReadOnlyDictionary<string, Tensor> constants, IReadOnlySet<string> initializers, IReadOnlyDictionary<string, long[]> shapes, string graphOutput, string source)
    {
        this.initializers = initializers;
        this.constants = constants;
        this.shapes = shapes;
        this.graphOutput = graphOutput;
        this.source = source;
        consumers = nodes.SelectMany(n => n.Input.Where(i => i.Length > 0).Select(i => (i, n))).ToLookup(p => p.i, p => p.n);
    }

    /// <summary>initializers: the file's stored tensors (learned), as opposed to values its nodes compute.</summary>
    public static List<GraphUnit> Build(List<NodeProto> nodes, IReadOnlyDictionary<string, Tensor> constants, IReadOnlySet<string> initializers, IReadOnlyDictionary<string, long[]> shapes, string graphOutput, string source)
    {
        var builder = new GraphUnits(nodes, constants, initializers, shapes, graphOutput, source);
        using var noGrad = no_grad();
        foreach (var node in nodes.Where(n => !builder.fused.Contains(n))) builder.Add(node);
        return builder.units;
    }

    void Add(NodeProto node)
    {
        var data = node.Input.Where(i => i.Length > 0 && !constants.ContainsKey(i)).ToList();
        if (data.Count != 1 || node.Output.Count(Used) > 1) { units.Add(Unit(UnitKind.Join, node, data, [.. node.Output])); return; }
        bool first = node.Input[0] == data[0];
        if (first && node.OpType == "Conv" && Constant(node, 1) is { } w) Conv(node, data, w);
        else if (first && node.OpType == "Gemm" && Constant(node, 1) is { Dimensions: 2 } b && Int(node, "transA", 0) == 0) Gemm(node, data, b);
        else if (first && node.OpType == "MatMul" && Constant(node, 1) is { Dimensions: 2 } m) MatMul(node, data, m);
        else if (first && Rectifier(node, constants) is { } kind && shapes[data[0]].Length >= 2) Activation(node, data, kind);
        else if (first && node.OpType == "BatchNormalization" && shapes[data[0]].Length == 4 && node.Input.Skip(1).All(constants.ContainsKey))
            units.Add(Unit(UnitKind.Op, node, data, [node.Output[0]], (names.For(node, null), NormModule(node, constants))));
        else Op(node, data);
    }

    bool Used(string value) => value == graphOutput || consumers[value].Any();

    NodeProto? OnlyConsumer(string value, string op) => consumers[value].ToList() is [var c] && c.OpType == op ? c : null;

    Tensor? Constant(NodeProto node, int i) => i < node.Input.Count && node.Input[i].Length > 0 ? constants.GetValueOrDefault(node.Input[i]) : null;

    GraphUnit Unit(UnitKind kind, NodeProto node, IReadOnlyList<string> data, IReadOnlyList<string> outputs, params (string, Module<Tensor, Tensor>)[] modules) => new()
    {
        Name = modules.Length > 0 ? modules[0].Item1 : names.For(node, null),
        Kind = kind, Node = node, DataInputs = data, Outputs = outputs, Modules = modules,
    };

    /// <summary>A conv, with the BatchNorm that alone reads it; asymmetric pads (CNTK, TensorFlow
    /// SAME) become a Pad step of their own before an unpadded conv.</summary>
    void Conv(NodeProto node, IReadOnlyList<string> data, Tensor w)
    {
        string name = names.For(node, node.Input[1]);
        var pads = OnnxOps.Window(node, w.shape[2..]).Pads;
        if (OnnxOps.Symmetric(pads) is null)
        {
            var pad = PadNode(node, name);
            var padOp = new GraphOp(name + "_pad", pad, 0, 0, [null, tensor(PadValues(pads))]);
            units.Add(Unit(UnitKind.Op, pad, data, [pad.Output[0]], (padOp.GetName(), padOp)));
            data = [pad.Output[0]];
            pads = [0, 0, 0, 0];
        }
        var conv = ConvModule(node, w, Constant(node, 2), pads, $"{source}: {Describe(node)}");
        string output = node.Output[0];
        if (OnlyConsumer(output, "BatchNormalization") is { } bn && bn.Input.Skip(1).All(constants.ContainsKey) && shapes[output].Length == 4)
        {
            fused.Add(bn);
            units.Add(Unit(UnitKind.Weight, node, data, [bn.Output[0]], (name, conv), (name + "_bn", NormModule(bn, constants))));
        }
        else units.Add(Unit(UnitKind.Weight, node, data, [output], (name, conv)));
    }

    void Gemm(NodeProto node, IReadOnlyList<string> data, Tensor b)
    {
        float alpha = Float(node, "alpha", 1f), beta = Float(node, "beta", 1f);
        using var weight = (Int(node, "transB", 0) != 0 ? b : b.t()) * alpha;
        using var bias = Constant(node, 2) is { } c ? (c.flatten() * beta).expand(weight.shape[0]) : null;
        units.Add(Unit(UnitKind.Weight, node, data, [node.Output[0]], (names.For(node, node.Input[1]), LinearModule(weight, bias))));
    }

    /// <summary>A matmul by a constant, with the constant add that alone reads it as its bias.</summary>
    void MatMul(NodeProto node, IReadOnlyList<string> data, Tensor b)
    {
        using var weight = b.t();
        string output = node.Output[0];
        var add = OnlyConsumer(output, "Add");
        var addend = add?.Input.Where(i => i != output).Select(i => constants.GetValueOrDefault(i)).FirstOrDefault();
        bool withBias = addend is not null && addend.numel() == weight.shape[0];
        if (withBias) fused.Add(add!);
        using var bias = withBias ? addend!.flatten() : null;
        units.Add(Unit(UnitKind.Weight, node, data, [withBias ? add!.Output[0] : output], (names.For(node, node.Input[1]), LinearModule(weight, bias))));
    }

    /// <summary>Neurons lie last on token layouts, and after a linear layer on any layout
    /// (ConvNeXt's [N, H, W, C]); on a conv's output they are dimension 1.</summary>
    void Activation(NodeProto node, IReadOnlyList<string> data, ActivationKind kind)
    {
        var shape = shapes[data[0]];
        bool last = shape.Length == 3 || units.LastOrDefault(u => u.Outputs.Contains(data[0])) is { Kind: UnitKind.Weight, Modules: [(_, TorchSharp.Modules.Linear), ..] };
        long channels = last ? shape[^1] : shape[1];
        Tensor? slopes = kind == ActivationKind.PReLU ? PReluSlopes(node, shape, last ? shape.Length - 1 : 1) : null;
        if (kind == ActivationKind.PReLU && slopes is null) { Op(node, data); return; }   // runs as the file says, not removable
        string name = names.For(node, null);
        var slot = slopes is not null
            ? ActivationSlot.Parametric(name, channels, last ? -1 : 1, slopes)
            : new ActivationSlot(name, kind, channels, last ? -1 : 1) { NegativeSlope = kind == ActivationKind.LeakyReLU ? Float(node, "alpha", 0.01f) : 0.01 };
        units.Add(Unit(UnitKind.Activation, node, data, [node.Output[0]], (slot.GetName(), slot)));
    }

    /// <summary>PRelu's slope when it is one value or one per neuron along the neuron axis ([C, 1, 1]
    /// on [N, C, H, W]; [C] on [N, ..., C]); null for any other broadcast.</summary>
    Tensor? PReluSlopes(NodeProto node, long[] input, int axis)
    {
        var slope = Constant(node, 1)!;
        long[] aligned = [.. Enumerable.Repeat(1L, input.Length - (int)slope.dim()), .. slope.shape];
        bool perNeuron = aligned.Select((d, i) => d == 1 || i == axis).All(ok => ok) && aligned[axis] == input[axis];
        return slope.numel() == 1 || perNeuron ? slope : null;
    }

    void Op(NodeProto node, IReadOnlyList<string> data)
    {
        int output = Math.Max(0, node.Output.ToList().FindIndex(Used));
        int dataInput = node.Input.IndexOf(data[0]);
        var constantInputs = node.Input.Select((_, i) => i == dataInput ? null : Constant(node, i)).ToList();
        // The file's learned tensors that an op applies: a LayerNorm's scale and shift, decomposed or whole; a layer scale.
        var trainable = TrainableOps.Contains(node.OpType)
            ? Enumerable.Range(0, node.Input.Count).Where(i => initializers.Contains(node.Input[i]) && constantInputs[i] is { dtype: ScalarType.Float32 } c && c.numel() > 1).ToHashSet()
            : null;
        var op = new GraphOp(names.For(node, null), node, dataInput, output, constantInputs, trainable);
        units.Add(Unit(UnitKind.Op, node, data, [node.Output[output]], (op.GetName(), op)));
    }

    /// <summary>ReLU, ReLU6 (Clip to [0, 6]), LeakyReLU, PReLU with constant slopes and exact GELU are removable; null otherwise.</summary>
    static ActivationKind? Rectifier(NodeProto node, IReadOnlyDictionary<string, Tensor> constants)
    {
        double? Bound(int input, string attribute)
        {
            if (input < node.Input.Count && node.Input[input].Length > 0)
                return constants.TryGetValue(node.Input[input], out var t) && t.numel() == 1 ? Scalar(t) : double.NaN;
            return Attribute(node, attribute)?.F;
        }
        return node.OpType switch
        {
            "Relu" => ActivationKind.ReLU,
            "LeakyRelu" => ActivationKind.LeakyReLU,
            "PRelu" when constants.ContainsKey(node.Input[1]) => ActivationKind.PReLU,
            "Gelu" when (Text(node, "approximate") ?? "none") == "none" => ActivationKind.GELU,
            "Clip" when Bound(1, "min") == 0 && Bound(2, "max") == 6 => ActivationKind.ReLU6,
            "Clip" when Bound(1, "min") == 0 && Bound(2, "max") is null => ActivationKind.ReLU,
            _ => null,
        };
    }

    /// <summary>ONNX Pad's pads for [N, C, H, W]: all begins, then all ends.</summary>
    static long[] PadValues(long[] pads) => [0, 0, pads[0], pads[1], 0, 0, pads[2], pads[3]];

    static NodeProto PadNode(NodeProto conv, string name)
    {
        var pad = new NodeProto { OpType = "Pad", Name = name + "_pad" };
        pad.Input.Add(conv.Input[0]);
        pad.Input.Add(name + ":pads");
        pad.Output.Add(conv.Output[0] + ":padded");
        return pad;
    }

    static Conv2d ConvModule(NodeProto node, Tensor w, Tensor? b, long[] pads, string where)
    {
        if (w.dim() != 4) throw new Runtime.UsageException($"{where}: a {w.dim() - 2}-D conv; 2-D convs are imported");
        var stride = OnnxOps.Window(node, w.shape[2..]).Stride;
        pads = OnnxOps.Symmetric(pads)!;
        long groups = Int(node, "group", 1);
        var dilation = Ints(node, "dilations") ?? [1, 1];
        var conv = Conv2d(w.shape[1] * groups, w.shape[0], (w.shape[2], w.shape[3]), stride: (stride[0], stride[1]),
            padding: (pads[0], pads[1]), dilation: (dilation[0], dilation[1]), groups: groups, bias: b is not null);
        conv.weight!.copy_(w);
        if (b is not null) conv.bias!.copy_(b);
        return conv;
    }

    /// <summary>Running statistics follow torch's default momentum (0.1), not the file's: CNTK writes
    /// 0.988, under which ImageNet's statistics still outweighed the new data's after 170 batches of
    /// fine-tuning (eval top-1 at chance while training top-1 was 68%).</summary>
    static BatchNorm2d NormModule(NodeProto node, IReadOnlyDictionary<string, Tensor> constants)
    {
        var scale = constants[node.Input[1]];
        var norm = BatchNorm2d(scale.shape[0], eps: Float(node, "epsilon", 1e-5f), momentum: 0.1);
        norm.weight!.copy_(scale);
        norm.bias!.copy_(constants[node.Input[2]]);
        norm.running_mean!.copy_(constants[node.Input[3]]);
        norm.running_var!.copy_(constants[node.Input[4]]);
        return norm;
    }

    static Linear LinearModule(Tensor weight, Tensor? bias)
    {
        var linear = Linear(weight.shape[1], weight.shape[0], hasBias: bias is not null);
        linear.weight!.copy_(weight);
        if (bias is not null) linear.bias!.copy_(bias);
        return linear;
    }

    /// <summary>Module names from the file's names ("/layer1/layer1.0/conv1/Conv" becomes
    /// layer1_layer1_0_conv1_Conv; a weight "features.0.weight" names its layer features_0), unique.</summary>
    sealed class Names
    {
        readonly HashSet<string> taken = [];

        public string For(NodeProto node, string? weight)
        {
            string raw = weight is not null && !weight.StartsWith("onnx::", StringComparison.Ordinal) && weight.EndsWith(".weight", StringComparison.Ordinal)
                ? weight[..^".weight".Length]
                : node.Name.Length > 0 ? node.Name : node.OpType + "_" + node.Output[0];
            string name = Regex.Replace(raw.Trim('/'), "[^A-Za-z0-9_]+", "_").Trim('_');
            if (name.Length == 0 || char.IsDigit(name[0])) name = "n" + name;
            string unique = name;
            for (int i = 2; !taken.Add(unique); i++) unique = $"{name}_{i}";
            return unique;
        }
    }
}
