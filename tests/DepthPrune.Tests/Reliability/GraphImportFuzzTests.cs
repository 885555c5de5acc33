using DepthPrune.Models.Graph;
using DepthPrune.Runtime;
using DepthPrune.Tests.Models;
using Google.Protobuf;
using Onnx;

namespace DepthPrune.Tests.Reliability;

/// <summary>`--onnx-model` fed damaged networks: the bytes of a real export damaged as the other
/// readers' files are, and valid protobuf whose meaning is damaged (an attribute, a dimension, an
/// operator or an input changed to an odd or huge value). Each import either builds a network or
/// ends in a DataFormatException or UsageException naming the file, within seconds; never another
/// exception, a hang, or an allocation of what a huge size asks for.</summary>
public class GraphImportFuzzTests
{
    static readonly long[] OddValues = [-1, 0, 1, 3, 7, 1 << 20, int.MaxValue, long.MaxValue];

    /// <summary>One change of meaning, chosen and placed by the seed.</summary>
    static byte[] Damage(ModelProto valid, int seed)
    {
        var random = new Random(seed);
        var model = valid.Clone();
        var graph = model.Graph;
        var node = graph.Node[random.Next(graph.Node.Count)];
        long odd = OddValues[random.Next(OddValues.Length)];
        switch (seed % 5)
        {
            case 0:   // an integer attribute (kernel, pads, strides, axis, groups)
                var ints = node.Attribute.Where(a => a.Ints.Count > 0 || a.Type == AttributeProto.Types.AttributeType.Int).ToList();
                if (ints.Count == 0) goto case 1;
                var attribute = ints[random.Next(ints.Count)];
                if (attribute.Ints.Count > 0) attribute.Ints[random.Next(attribute.Ints.Count)] = odd;
                else attribute.I = odd;
                break;
            case 1:   // a stored tensor's dimension
                var tensor = graph.Initializer[random.Next(graph.Initializer.Count)];
                if (tensor.Dims.Count == 0) tensor.Dims.Add(odd);
                else tensor.Dims[random.Next(tensor.Dims.Count)] = odd;
                break;
            case 2:   // another operator of the supported set
                var ops = OnnxOps.Supported.Order().ToList();
                node.OpType = ops[random.Next(ops.Count)];
                break;
            case 3:   // an input read from elsewhere, or dropped
                var values = graph.Node.SelectMany(x => x.Output).Concat(graph.Initializer.Select(t => t.Name)).ToList();
                if (node.Input.Count == 0) goto case 2;
                node.Input[random.Next(node.Input.Count)] = random.Next(4) == 0 ? "" : values[random.Next(values.Count)];
                break;
            default:  // the image input's size
                var dims = graph.Input[0].Type.TensorType.Shape.Dim;
                dims[1 + random.Next(dims.Count - 1)].DimValue = odd;
                break;
        }
        return model.ToByteArray();
    }

    static void Fuzz(string name, string path, Func<int, byte[]> damaged) =>
        ReaderFuzzTests.Fuzz(name, path, damaged, () => OnnxImport.Read(path, 32, 10).Dispose());

    [Fact]
    public void Damaged_bytes_of_an_exported_network()
    {
        using var dir = new TempDir();
        byte[] valid = File.ReadAllBytes(new OnnxFixture("prelu_net.opset13").Path);
        Fuzz("ONNX graph bytes", dir["net.onnx"], seed => ReaderFuzzTests.Mutate(valid, seed));
    }

    [Theory]
    [InlineData("prelu_net.opset13")]       // conv, PRelu, residual add, pooling, gemm
    [InlineData("convnext.opset17")]        // LayerNormalization, token matmuls, the Erf GELU, transposes
    [InlineData("shufflenet_v2.opset13")]   // split, concat, channel-shuffle reshapes, max pool
    public void Valid_protobuf_with_damaged_meaning(string fixture)
    {
        using var dir = new TempDir();
        var valid = ModelProto.Parser.ParseFrom(File.ReadAllBytes(new OnnxFixture(fixture).Path));
        Fuzz($"ONNX graph meaning ({fixture})", dir["net.onnx"], seed => Damage(valid, seed));
    }
}
