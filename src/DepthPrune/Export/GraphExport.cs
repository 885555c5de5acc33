using DepthPrune.Models.Graph;
using Google.Protobuf;
using Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static DepthPrune.Export.OnnxGraph;

namespace DepthPrune.Export;

/// <summary>Writes the modules of an imported network with their current (trained) weights: its
/// weight layers, lone BatchNorms, the file's own ops and its opaque regions, step by step.</summary>
static class GraphExport
{
    public static string Emit(OnnxGraph g, string name, nn.Module<Tensor, Tensor> module, string x, Tensor sample) => module switch
    {
        Conv2d c => g.Node("Conv", c.bias is null ? [x, g.Constant(name + ".weight", c.weight!)] : [x, g.Constant(name + ".weight", c.weight!), g.Constant(name + ".bias", c.bias)],
            Ints("kernel_shape", c.kernel_size), Ints("strides", c.stride), Ints("pads", [.. c.padding!, .. c.padding!]),
            Ints("dilations", c.dilation), Int("group", c.groups)),
        Linear l => Linear(g, name, l, x, sample),
        BatchNorm2d n => g.Node("BatchNormalization", [x, g.Constant(name + ".scale", n.weight!), g.Constant(name + ".shift", n.bias!),
            g.Constant(name + ".mean", n.running_mean!), g.Constant(name + ".var", n.running_var!)], Float("epsilon", (float)n.eps)),
        GraphOp op => Op(g, op, x),
        GraphProgram region => Region(g, region, x, sample),
        _ => throw new NotSupportedException($"{name}: {module.GetType().Name} has no ONNX export"),
    };

    static string Linear(OnnxGraph g, string name, Linear l, string x, Tensor sample)
    {
        string bias = l.bias is null ? g.Constant(name + ".bias", zeros(l.weight!.shape[0])) : g.Constant(name + ".bias", l.bias);
        return sample.dim() == 2
            ? g.Node("Gemm", [x, g.Constant(name + ".weight", l.weight!), bias], Int("transB", 1))
            : OnnxExport.TokenLinear(g, name, l.weight!, bias, x);
    }

    /// <summary>The file's node again: data input renamed, constants written as initializers.</summary>
    static string Op(OnnxGraph g, GraphOp op, string x)
    {
        var inputs = op.Constants.Select((c, i) => i == op.DataInput ? x : c is null ? "" : g.Tensor(op.GetName() + ".in" + i, c)).ToArray();
        return g.Copy(op.Node, inputs, op.Output);
    }

    /// <summary>A region's steps in order, values renamed; its modules written as above.</summary>
    static string Region(OnnxGraph g, GraphProgram region, string x, Tensor sample)
    {
        var names = new Dictionary<string, string> { [region.Entry] = x };
        var samples = new Dictionary<string, Tensor> { [region.Entry] = sample };
        var children = region.named_children().ToDictionary(c => c.module, c => c.name);
        foreach (var step in region.Steps)
        {
            if (step.Module is { } module)
            {
                var input = samples[step.Inputs[0]];
                names[step.Outputs[0]] = OnnxExport.EmitModule(g, region.GetName() + "." + children[module], module, names[step.Inputs[0]], input);
                samples[step.Outputs[0]] = module.call(input);
                continue;
            }
            var node = step.Node!;
            var inputs = step.Inputs.Select(i => i.Length == 0 ? "" : names.TryGetValue(i, out var n) ? n : g.Tensor(i, region.Constants[i])).ToArray();
            var values = OnnxOps.Run(node, step.Inputs.Select(i => i.Length == 0 ? null : samples.TryGetValue(i, out var t) ? t : region.Constants[i]).ToList());
            var outputs = g.CopyAll(node, inputs);
            for (int i = 0; i < outputs.Length; i++)
            {
                names[step.Outputs[i]] = outputs[i];
                samples[step.Outputs[i]] = values[i];
            }
        }
        return names[region.Exit];
    }
}
