using Onnx;
using static TorchSharp.torch;

namespace DepthPrune.Models.Graph;

/// <summary>Reads ONNX tensors and node attributes.</summary>
static class OnnxValues
{
    /// <summary>An initializer or a Constant node's value as a CPU tensor of the same type.</summary>
    public static Tensor ToTensor(TensorProto proto, string where)
    {
        long[] dims = [.. proto.Dims];
        var type = (TensorProto.Types.DataType)proto.DataType;
        if (proto.DataLocation == TensorProto.Types.DataLocation.External)
            throw new Runtime.DataFormatException($"{where}: tensor '{proto.Name}' is stored outside the file (external data); save the model with its weights inside");
        byte[] raw = proto.RawData.ToByteArray();
        Tensor flat = type switch
        {
            TensorProto.Types.DataType.Float => tensor(raw.Length > 0 ? FromRaw<float>(raw) : proto.FloatData.ToArray()),
            TensorProto.Types.DataType.Double => tensor(raw.Length > 0 ? FromRaw<double>(raw) : proto.DoubleData.ToArray()),
            TensorProto.Types.DataType.Int64 => tensor(raw.Length > 0 ? FromRaw<long>(raw) : proto.Int64Data.ToArray()),
            TensorProto.Types.DataType.Int32 => tensor(raw.Length > 0 ? FromRaw<int>(raw) : proto.Int32Data.ToArray()),
            TensorProto.Types.DataType.Bool => raw.Length > 0 ? tensor(raw.Select(b => b != 0).ToArray()) : tensor(proto.Int32Data.Select(i => i != 0).ToArray()),
            _ => throw new Runtime.DataFormatException($"{where}: tensor '{proto.Name}' has element type {type}; float, double, int64, int32 and bool are read"),
        };
        long count = dims.Aggregate(1L, (a, b) => a * b);
        if (flat.numel() != count)
            throw new Runtime.DataFormatException($"{where}: tensor '{proto.Name}' declares shape [{string.Join(",", dims)}] but holds {flat.numel()} values");
        using (flat) return flat.reshape(dims);
    }

    /// <summary>raw_data is little-endian, as this machine is.</summary>
    static T[] FromRaw<T>(byte[] raw) where T : unmanaged => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(raw).ToArray();

    /// <summary>A one-element tensor's value.</summary>
    public static double Scalar(Tensor t)
    {
        using var d = t.to(ScalarType.Float64).flatten();
        return d[0].item<double>();
    }

    public static AttributeProto? Attribute(NodeProto node, string name) => node.Attribute.FirstOrDefault(a => a.Name == name);

    public static long Int(NodeProto node, string name, long fallback) => Attribute(node, name)?.I ?? fallback;

    public static float Float(NodeProto node, string name, float fallback) => Attribute(node, name) is { } a ? a.F : fallback;

    public static long[]? Ints(NodeProto node, string name) => Attribute(node, name) is { } a ? [.. a.Ints] : null;

    public static string? Text(NodeProto node, string name) => Attribute(node, name) is { } a ? a.S.ToStringUtf8() : null;

    /// <summary>A node as a person finds it in the file: its name, or its op type and output.</summary>
    public static string Describe(NodeProto node) =>
        $"node '{(node.Name.Length > 0 ? node.Name : node.Output.FirstOrDefault() ?? "?")}' ({node.OpType})";
}
