using Google.Protobuf;
using Onnx;
using static TorchSharp.torch;

namespace DepthPrune.Export;

/// <summary>Accumulates ONNX nodes and initializers with fresh value names.</summary>
sealed class OnnxGraph
{
    public GraphProto Graph { get; } = new();
    int counter;

    public string Fresh(string hint) => $"{hint}_{counter++}";

    /// <summary>A constant float tensor (weights, masks, bounds) as an initializer.</summary>
    public string Constant(string hint, Tensor value)
    {
        using var cpu = value.detach().to(ScalarType.Float32).cpu().contiguous();
        var proto = new TensorProto { Name = Fresh(hint), DataType = (int)TensorProto.Types.DataType.Float };
        proto.Dims.AddRange(cpu.shape);
        proto.RawData = ByteString.CopyFrom(cpu.bytes);
        Graph.Initializer.Add(proto);
        return proto.Name;
    }

    public string Constant(string hint, float[] values, params long[] shape)
    {
        using var t = tensor(values).reshape(shape);
        return Constant(hint, t);
    }

    /// <summary>A constant int64 vector (shapes) as an initializer.</summary>
    public string Int64s(string hint, long[] values)
    {
        var proto = new TensorProto { Name = Fresh(hint), DataType = (int)TensorProto.Types.DataType.Int64 };
        proto.Dims.Add(values.Length);
        proto.Int64Data.AddRange(values);
        Graph.Initializer.Add(proto);
        return proto.Name;
    }

    /// <summary>A constant int64 scalar (a Gather index) as an initializer.</summary>
    public string Int64Scalar(string hint, long value)
    {
        var proto = new TensorProto { Name = Fresh(hint), DataType = (int)TensorProto.Types.DataType.Int64 };
        proto.Int64Data.Add(value);
        Graph.Initializer.Add(proto);
        return proto.Name;
    }

    /// <summary>A constant of any element type (an imported op's shapes, indices, bounds) as an initializer.</summary>
    public string Tensor(string hint, Tensor value)
    {
        if (value.dtype == ScalarType.Float32) return Constant(hint, value);
        using var cpu = value.detach().cpu().contiguous();
        var type = value.dtype switch
        {
            ScalarType.Int64 => TensorProto.Types.DataType.Int64,
            ScalarType.Int32 => TensorProto.Types.DataType.Int32,
            ScalarType.Float64 => TensorProto.Types.DataType.Double,
            ScalarType.Bool => TensorProto.Types.DataType.Bool,
            var other => throw new NotSupportedException($"{hint}: a {other} constant has no ONNX export"),
        };
        var proto = new TensorProto { Name = Fresh(hint), DataType = (int)type };
        proto.Dims.AddRange(cpu.shape);
        proto.RawData = ByteString.CopyFrom(cpu.bytes);
        Graph.Initializer.Add(proto);
        return proto.Name;
    }

    /// <summary>Adds a copy of a node (an imported network's own op) on new inputs; returns the
    /// name of the output it keeps (the others get fresh names too).</summary>
    public string Copy(NodeProto original, string[] inputs, int output) => CopyAll(original, inputs)[output];

    public string[] CopyAll(NodeProto original, string[] inputs)
    {
        var node = new NodeProto { OpType = original.OpType, Domain = original.Domain, Name = Fresh(original.OpType) };
        node.Input.AddRange(inputs);
        node.Attribute.AddRange(original.Attribute);
        var outputs = original.Output.Select(_ => Fresh(original.OpType.ToLowerInvariant())).ToArray();
        node.Output.AddRange(outputs);
        Graph.Node.Add(node);
        return outputs;
    }

    /// <summary>Adds one node and returns the name of its (single) output.</summary>
    public string Node(string op, string[] inputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = Fresh(op) };
        node.Input.AddRange(inputs);
        string output = Fresh(op.ToLowerInvariant());
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        Graph.Node.Add(node);
        return output;
    }

    public static AttributeProto Ints(string name, IEnumerable<long> values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Float(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };
}
