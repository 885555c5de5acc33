using DepthPrune.Runtime;
using Google.Protobuf;
using System.Runtime.InteropServices;
using Onnx;
using static TorchSharp.torch;

namespace DepthPrune.Models.Graph;

/// <summary>Turns an ONNX classifier into a trainable model: initializers become parameters,
/// convs/gemms/matmuls with constant weights become weight layers (a BatchNormalization right
/// after a conv stays a trainable BatchNorm folded with it), ReLU, ReLU6 (Clip 0..6), LeakyReLU and
/// GELU become activation slots, and the structural description is derived from the graph
/// (<see cref="GraphStructure"/>).</summary>
public static class OnnxImport
{
    /// <summary>The model name an imported network goes by (checkpoints, reports).</summary>
    public static string ModelName(string file) => "onnx:" + Path.GetFileName(file);

    /// <summary>classes: a new head of that many classes when the file's output is a feature
    /// vector or map, or scores for another class count (an ImageNet network for your data set).</summary>
    public static ZooModel Read(string path, int? inputSize = null, int? classes = null)
    {
        if (!File.Exists(path)) throw new UsageException($"--onnx-model {path}: file not found");
        return FromBytes(File.ReadAllBytes(path), path, inputSize, classes);
    }

    /// <summary>Builds the model from the file's bytes; source names the file in messages.</summary>
    public static ZooModel FromBytes(byte[] bytes, string source, int? inputSize = null, int? classes = null)
    {
        try { return Build(bytes, source, inputSize, classes); }
        catch (Exception e) when (e is ExternalException or ArgumentException or KeyNotFoundException or InvalidOperationException or IndexOutOfRangeException)
        {
            // What the checks above missed in a damaged file still names the file, as one line.
            throw new DataFormatException($"{source}: the graph does not build into a network ({e.Message.Split('\n')[0]})");
        }
    }

    static ZooModel Build(byte[] bytes, string source, int? inputSize, int? classes)
    {
        ModelProto proto;
        try { proto = ModelProto.Parser.ParseFrom(bytes); }
        catch (InvalidProtocolBufferException e) { throw new DataFormatException($"{source}: not an ONNX model ({e.Message})"); }
        if (proto.Graph is null || proto.Graph.Node.Count == 0) throw new DataFormatException($"{source}: the ONNX file holds no graph");
        var graph = proto.Graph;
        foreach (var node in graph.Node)
            if (!OnnxOps.Supported.Contains(node.OpType) || node.Domain is not ("" or "ai.onnx"))
                throw new UsageException($"{source}: {OnnxValues.Describe(node)} is not an operator DepthPrune imports; supported: {string.Join(", ", OnnxOps.Supported.Order())}");

        var constants = graph.Initializer.ToDictionary(t => t.Name, t => OnnxValues.ToTensor(t, source));
        var inputs = graph.Input.Where(i => !constants.ContainsKey(i.Name)).ToList();
        if (inputs.Count != 1) throw new UsageException($"{source}: the graph has {inputs.Count} inputs ({string.Join(", ", inputs.Select(i => i.Name))}); DepthPrune imports networks with one image input");
        if (graph.Output.Count != 1) throw new UsageException($"{source}: the graph has {graph.Output.Count} outputs; DepthPrune imports networks with one output (class scores)");
        string input = inputs[0].Name, output = graph.Output[0].Name;
        var options = Options(inputs[0], source, inputSize);

        var dataNodes = GeluPattern.Fuse(FoldConstants(graph, constants, input, source), constants);
        var shapes = ShapePass(dataNodes, constants, input, options, source);
        var used = Used(dataNodes, output);
        dataNodes = dataNodes.Where(used.Contains).ToList();
        var units = GraphUnits.Build(dataNodes, constants, Learned(graph), shapes, output, source);
        bool scores = shapes[output] is [1, _];
        if (classes is int wanted && !(scores && shapes[output][1] == wanted))
            output = GraphHead.Attach(units, output, shapes[output], wanted, source);
        else if (!scores)
            throw new UsageException($"{source}: output '{output}' has shape [{string.Join(",", shapes[output])}] for one image, not [N, classes]; pass --classes N to attach a classifier head");
        options = options with { Classes = classes ?? (int)shapes[output][1] };

        var derived = GraphStructure.Derive(units, input, output, source);
        var net = derived.Program(input, output, constants);
        return new ZooModel(ModelName(source), options, net, derived.Root) { OnnxSource = bytes, InputName = input, OutputName = graph.Output[0].Name };
    }

    /// <summary>The file's stored tensors, and the copies Identity nodes make of them: PyTorch's
    /// exporter stores equal initializers once (freshly initialised LayerNorm shifts are all zero)
    /// and hands the one copy to each user through an Identity node.</summary>
    static HashSet<string> Learned(GraphProto graph)
    {
        var learned = graph.Initializer.Select(t => t.Name).ToHashSet();
        foreach (var node in graph.Node)
            if (node.OpType == "Identity" && learned.Contains(node.Input[0])) learned.Add(node.Output[0]);
        return learned;
    }

    /// <summary>The input's channels and square side from the file (a dynamic side needs inputSize).</summary>
    static ModelOptions Options(ValueInfoProto input, string source, int? inputSize)
    {
        var dims = input.Type?.TensorType?.Shape?.Dim.Select(d => d.HasDimValue ? d.DimValue : (long?)null).ToList();
        if (dims is not { Count: 4 }) throw new UsageException($"{source}: input '{input.Name}' is not a 4-D image batch [N, C, H, W]");
        if (dims[1] is not long channels) throw new UsageException($"{source}: input '{input.Name}' leaves its channel count open");
        long? side = dims[2] == dims[3] ? dims[2] : null;
        if (dims[2] is long h && dims[3] is long w && h != w) throw new UsageException($"{source}: input '{input.Name}' is {h}x{w}; square inputs are imported");
        if (side is long fixedSide && inputSize is int asked && asked != fixedSide)
            throw new UsageException($"--input-size {asked}: {source} fixes its input at {fixedSide}x{fixedSide}");
        long size = inputSize ?? side ?? throw new UsageException($"{source}: input '{input.Name}' leaves its height and width open; pass --input-size");
        ModelOptions.RequireInput(channels, size, $"{source}: input '{input.Name}': ");   // checked before narrowing to int
        return new ModelOptions(Classes: 2, InChannels: (int)channels, Width: 1, InputSize: (int)size);
    }

    /// <summary>Evaluates Constant nodes and nodes on constants only; returns the nodes on data.</summary>
    static List<NodeProto> FoldConstants(GraphProto graph, Dictionary<string, Tensor> constants, string input, string source)
    {
        var data = new List<NodeProto>();
        foreach (var node in graph.Node)
        {
            if (node.Input.Where(n => n.Length > 0).Any(n => !constants.ContainsKey(n)))
            {
                data.Add(node);
                continue;
            }
            var outputs = Evaluate(node, node.Input.Select(n => n.Length == 0 ? null : constants[n]).ToList(), source);
            for (int i = 0; i < outputs.Length && i < node.Output.Count; i++) constants[node.Output[i]] = outputs[i];
        }
        return data;
    }

    /// <summary>Runs the data nodes once on a zero image: every value's shape for one image.</summary>
    static Dictionary<string, long[]> ShapePass(List<NodeProto> nodes, Dictionary<string, Tensor> constants, string input, ModelOptions options, string source)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var values = new Dictionary<string, Tensor> { [input] = zeros(1, options.InChannels, options.InputSize, options.InputSize) };
        foreach (var node in nodes)
        {
            var args = node.Input.Select(n => n.Length == 0 ? null
                : values.TryGetValue(n, out var v) ? v : constants.TryGetValue(n, out var c) ? c
                : throw new DataFormatException($"{source}: {OnnxValues.Describe(node)} reads '{n}', which no earlier node computes")).ToList();
            var outputs = Evaluate(node, args, source);
            for (int i = 0; i < outputs.Length && i < node.Output.Count; i++) values[node.Output[i]] = outputs[i];
        }
        return values.ToDictionary(v => v.Key, v => v.Value.shape);
    }

    static Tensor[] Evaluate(NodeProto node, IReadOnlyList<Tensor?> inputs, string source)
    {
        try { return OnnxOps.Run(node, inputs); }
        catch (UsageException e) { throw new UsageException($"{source}: {e.Message}"); }
        catch (Exception e) when (e is ExternalException or ArgumentException or InvalidOperationException or IndexOutOfRangeException)
        {
            throw new DataFormatException($"{source}: {OnnxValues.Describe(node)} fails on its inputs ({e.Message.Split('\n')[0]})");
        }
    }

    /// <summary>The nodes the output depends on (others are dropped).</summary>
    static HashSet<NodeProto> Used(List<NodeProto> nodes, string output)
    {
        var producer = nodes.SelectMany(n => n.Output.Select(o => (o, n))).Where(p => p.o.Length > 0).ToDictionary(p => p.o, p => p.n);
        var used = new HashSet<NodeProto>();
        var pending = new Stack<string>([output]);
        while (pending.TryPop(out var value))
            if (producer.TryGetValue(value, out var node) && used.Add(node))
                foreach (var i in node.Input) pending.Push(i);
        return used;
    }
}
