using Onnx;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DepthPrune.Models.Graph;

/// <summary>One ONNX node with one data input run as a module: pooling, flatten, a constant
/// add, a gating sigmoid. Its other inputs are the file's constants; those given as trainable
/// (a LayerNorm's scale and shift, a layer scale) are parameters ("in" + position), trained with
/// the rest; the others are kept as they are.</summary>
public sealed class GraphOp : Module<Tensor, Tensor>
{
    /// <summary>The node as the file has it (export writes it back).</summary>
    public NodeProto Node { get; }
    /// <summary>Which input of the node is the data; the others are in Constants.</summary>
    public int DataInput { get; }
    /// <summary>Which of the node's outputs this module returns.</summary>
    public int Output { get; }
    /// <summary>Constant inputs by position (null at the data input and at missing optional inputs).</summary>
    public IReadOnlyList<Tensor?> Constants { get; }

    internal GraphOp(string name, NodeProto node, int dataInput, int output, IReadOnlyList<Tensor?> constants, IReadOnlySet<int>? trainable = null) : base(name)
    {
        Node = node;
        DataInput = dataInput;
        Output = output;
        Constants = constants.Select((c, i) => trainable?.Contains(i) == true ? Learned(i, c!) : c).ToList();
    }

    Tensor Learned(int position, Tensor value)
    {
        var parameter = new TorchSharp.Modules.Parameter(value.detach().clone());
        register_parameter("in" + position, parameter);
        return parameter;
    }

    public override Tensor forward(Tensor x)
    {
        var inputs = Constants.Select((c, i) => i == DataInput ? x : c is null ? null : c.device == x.device ? c : c.to(x.device)).ToList();
        var outputs = OnnxOps.Run(Node, inputs);
        for (int i = 0; i < outputs.Length; i++)
            if (i != Output) outputs[i].Dispose();
        return outputs[Output];
    }
}
