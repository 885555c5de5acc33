using DepthPrune.Folding;
using DepthPrune.Models;
using DepthPrune.Models.Architectures;
using DepthPrune.Models.Graph;
using DepthPrune.Runtime;
using Google.Protobuf;
using Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static DepthPrune.Export.OnnxGraph;
using F = TorchSharp.torch.nn.functional;

namespace DepthPrune.Export;

/// <summary>Writes fold stages (a folded network, or a model compiled without merges) as an ONNX
/// model: input "input" [batch, C, H, W], output "logits" [batch, classes] (or the names given).
/// Shapes are traced by
/// running the stages once on a zero image, so pooling is exported for the sizes it really sees.</summary>
public static class OnnxExport
{
    public const int Opset = 17;
    public const string Input = "input", Output = "logits";

    /// <summary>Runs with the collector held off, like the fold (<see cref="NoCollection"/>).</summary>
    public static ModelProto Build(IReadOnlyList<FoldStage> stages, ModelOptions options, string name, Device? device = null, string input = Input, string output = Output) =>
        NoCollection.Run(() => Graph(stages, options, name, device, input, output));

    static ModelProto Graph(IReadOnlyList<FoldStage> stages, ModelOptions options, string name, Device? device, string input, string output)
    {
        var graph = new OnnxGraph();
        graph.Graph.Name = name;
        graph.Graph.Input.Add(Value(input, ["batch", options.InChannels, options.InputSize, options.InputSize]));
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var sample = zeros(2, options.InChannels, options.InputSize, options.InputSize, device: device);
        var (last, result) = Emit(graph, stages, input, sample);
        graph.Graph.Node.Add(new NodeProto { OpType = "Identity", Name = output, Input = { last }, Output = { output } });
        graph.Graph.Output.Add(Value(output, ["batch", result.shape[1]]));
        var model = new ModelProto { IrVersion = 8, ProducerName = "depthprune", ProducerVersion = typeof(OnnxExport).Assembly.GetName().Version?.ToString(3) ?? "", Graph = graph.Graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        return model;
    }

    /// <summary>Temp file and rename: an interrupted export never leaves a half-written model.</summary>
    public static void Write(ModelProto model, string path) => AtomicFile.Write(path, stream => model.WriteTo(stream));

    static ValueInfoProto Value(string name, object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
            shape.Dim.Add(d is string symbol ? new TensorShapeProto.Types.Dimension { DimParam = symbol } : new TensorShapeProto.Types.Dimension { DimValue = Convert.ToInt64(d) });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    /// <summary>Emits stages after value x (whose torch value is sample); returns the last value and its torch value.</summary>
    static (string Value, Tensor Sample) Emit(OnnxGraph g, IReadOnlyList<FoldStage> stages, string x, Tensor sample)
    {
        foreach (var stage in stages)
            (x, sample) = stage switch
            {
                AffineStage a => Affine(g, a.Layer, x, sample),
                ModuleStage m => Module(g, m, x, sample),
                BiasStage b => AddBias(g, b, x, sample),
                ResidualStage r => Residual(g, r, x, sample),
                _ => throw new NotSupportedException(stage.GetType().Name),
            };
        return (x, sample);
    }

    static (string, Tensor) Residual(OnnxGraph g, ResidualStage r, string x, Tensor sample)
    {
        var (main, mainSample) = Emit(g, r.Main, x, sample);
        var (shortcut, shortcutSample) = Emit(g, r.Shortcut, x, sample);
        return (g.Node("Add", [main, shortcut]), mainSample + shortcutSample);
    }

    static (string, Tensor) AddBias(OnnxGraph g, BiasStage stage, string x, Tensor sample)
    {
        var bias = stage.Broadcastable(sample.dim());
        return (g.Node("Add", [x, g.Constant(stage.Name + ".bias", bias)]), sample + bias);
    }

    static (string, Tensor) Affine(OnnxGraph g, AffineLayer layer, string x, Tensor sample)
    {
        var output = layer.Apply(sample);
        if (layer.Conv is { } c)
        {
            string w = g.Constant(layer.Name + ".weight", layer.Weight);
            var pads = Ints("pads", [c.Padding[0], c.Padding[1], c.Padding[0], c.Padding[1]]);
            if (layer.Bias.dim() == 1)
                return (g.Node("Conv", [x, w, g.Constant(layer.Name + ".bias", layer.Bias)], Ints("kernel_shape", c.Kernel), Ints("strides", c.Stride), pads, Int("group", c.Groups)), output);
            // A bias that differs at the borders: [C, H, W] added after the conv.
            string y = g.Node("Conv", [x, w], Ints("kernel_shape", c.Kernel), Ints("strides", c.Stride), pads, Int("group", c.Groups));
            return (g.Node("Add", [y, g.Constant(layer.Name + ".bias", layer.Bias)]), output);
        }
        string b = g.Constant(layer.Name + ".bias", layer.Bias);
        bool flattens = DescribedNet.Flattens(sample.shape, layer.Weight.shape[1]);
        if (flattens) x = g.Node("Flatten", [x], Int("axis", 1));
        if (flattens || sample.dim() == 2)
            return (g.Node("Gemm", [x, g.Constant(layer.Name + ".weight", layer.Weight), b], Int("transB", 1)), output);
        return (TokenLinear(g, layer.Name, layer.Weight, b, x), output);
    }

    /// <summary>A linear layer on token layouts [B, ..., in]: x W^T + b on the last dimension.</summary>
    internal static string TokenLinear(OnnxGraph g, string name, Tensor weight, string bias, string x)
    {
        using var transposed = weight.detach().t().contiguous();
        return g.Node("Add", [g.Node("MatMul", [x, g.Constant(name + ".weight_t", transposed)]), bias]);
    }

    static (string, Tensor) Module(OnnxGraph g, ModuleStage stage, string x, Tensor sample) =>
        (EmitModule(g, stage.Name, stage.Module, x, sample), stage.Module.call(sample));

    /// <summary>Emits one module run on value x (whose torch value is sample); returns its output's name.</summary>
    internal static string EmitModule(OnnxGraph g, string name, nn.Module<Tensor, Tensor> module, string x, Tensor sample) => module switch
    {
        ActivationSlot slot => Activation(g, slot, x, sample),
        MaxPool2d p => g.Node("MaxPool", [x], Ints("kernel_shape", p.kernel_size), Ints("strides", p.stride ?? p.kernel_size),
            Ints("pads", [.. p.padding ?? [0, 0], .. p.padding ?? [0, 0]]), Int("ceil_mode", p.ceil_mode ? 1 : 0)),
        AdaptiveAvgPool2d => AveragePool(g, name, x, sample.shape, module.call(sample).shape),
        Flatten f when f.end_dim == -1 => g.Node("Flatten", [x], Int("axis", f.start_dim)),
        Identity => x,
        SwinT.Permute p => g.Node("Transpose", [x], Ints("perm", p.Order)),
        LayerNorm norm => SwinExport.LayerNorm(g, name, norm, x),
        SwinT.PatchGather => SwinExport.PatchGather(g, x, sample.shape),
        SwinT.WindowAttention attention => SwinExport.Attention(g, name, attention, x, sample.shape),
        Conv2d or Linear or BatchNorm2d or GraphOp or GraphProgram => GraphExport.Emit(g, name, module, x, sample),
        var other => throw new NotSupportedException($"{name}: {other.GetType().Name} has no ONNX export"),
    };

    static string AveragePool(OnnxGraph g, string name, string x, long[] input, long[] output)
    {
        if (output[2] == 1 && output[3] == 1) return g.Node("GlobalAveragePool", [x]);
        if (output[2] == input[2] && output[3] == input[3]) return x;
        // A 1x1 map pooled to a larger size is that value repeated (VGG's 7x7 pool on small inputs).
        if (input[2] == 1 && input[3] == 1) return g.Node("Expand", [x, g.Int64s("shape", [1, 1, output[2], output[3]])]);
        if (input[2] % output[2] != 0 || input[3] % output[3] != 0)
            throw new NotSupportedException($"{name}: adaptive average pooling {input[2]}x{input[3]} -> {output[2]}x{output[3]} is not a fixed pooling window");
        long[] window = [input[2] / output[2], input[3] / output[3]];
        return g.Node("AveragePool", [x], Ints("kernel_shape", window), Ints("strides", window));
    }

    internal static string Activation(OnnxGraph g, ActivationSlot slot, string x, Tensor sample)
    {
        // Per-neuron constants broadcast against [N, C, H, W] as [C, 1, 1], against [N, ..., C] as [C].
        long[] perNeuron = slot.ChannelDim == 1 ? [slot.Channels, .. Enumerable.Repeat(1L, (int)sample.dim() - 2)] : [slot.Channels];
        switch (slot.Mode)
        {
            case SlotMode.Identity:
                return x;
            case SlotMode.ChannelMask:
                return g.Node("Mul", [x, g.Constant(slot.GetName() + ".mask", slot.Mask!, perNeuron)]);
            case SlotMode.PReLU:
                return g.Node("PRelu", [x, g.Constant(slot.GetName() + ".slope", slot.Slope!)]);
        }
        string y = slot.Kind switch
        {
            ActivationKind.ReLU => g.Node("Relu", [x]),
            ActivationKind.ReLU6 => g.Node("Clip", [x, g.Constant("zero", [0f]), g.Constant("six", [6f])]),
            ActivationKind.LeakyReLU => g.Node("LeakyRelu", [x], Float("alpha", (float)slot.NegativeSlope)),
            ActivationKind.PReLU => g.Node("PRelu", [x, PReluSlopes(g, slot, perNeuron)]),
            _ => Gelu(g, x),
        };
        return slot.Alive is null ? y : g.Node("Mul", [y, g.Constant(slot.GetName() + ".alive", slot.Alive, perNeuron)]);
    }

    static string PReluSlopes(OnnxGraph g, ActivationSlot slot, long[] perNeuron)
    {
        using var slopes = slot.Weight!.detach().reshape(slot.Weight.numel() == 1 ? [1] : perNeuron);
        return g.Constant(slot.GetName() + ".weight", slopes);
    }

    /// <summary>Exact GELU, x * (1 + erf(x / sqrt 2)) / 2, from opset-17 operators.</summary>
    static string Gelu(OnnxGraph g, string x)
    {
        string erf = g.Node("Erf", [g.Node("Div", [x, g.Constant("sqrt2", [MathF.Sqrt(2)])])]);
        string onePlus = g.Node("Add", [erf, g.Constant("one", [1f])]);
        return g.Node("Mul", [g.Node("Mul", [x, onePlus]), g.Constant("half", [0.5f])]);
    }
}
