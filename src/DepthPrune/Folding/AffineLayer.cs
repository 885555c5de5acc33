using TorchSharp;
using TorchSharp.Modules;
using DepthPrune.Models;
using static TorchSharp.torch;

namespace DepthPrune.Folding;

/// <summary>Where a conv's kernel sits: square or not, zero padding only.</summary>
public sealed record ConvGeometry(long[] Kernel, long[] Stride, long[] Padding, long Groups)
{
    /// <summary>Output length along spatial dimension d of an input of the given length.</summary>
    public long OutputLength(long input, int d) => (input + 2 * Padding[d] - Kernel[d]) / Stride[d] + 1;
}

/// <summary>A conv or linear layer as plain tensors (eval mode), with its BatchNorm and any
/// per-channel scaling already folded in, so that chains of them can be merged.</summary>
public sealed class AffineLayer : IDisposable
{
    /// <summary>The original layers it stands for, joined by '+'.</summary>
    public string Name { get; }
    /// <summary>[out, in/groups, kh, kw] for a conv, [out, in] for a linear.</summary>
    public Tensor Weight { get; private set; }
    /// <summary>[out], or [out, H, W] for a conv whose merged bias differs at the borders (a
    /// layer after a 1x1 conv sums that conv's bias over fewer taps where it meets padding).</summary>
    public Tensor Bias { get; private set; }
    /// <summary>Null for a linear layer.</summary>
    public ConvGeometry? Conv { get; }
    /// <summary>False once a merge changed what the borders compute (the second conv's padding
    /// moved into a first conv wider than 1x1).</summary>
    public bool Exact { get; }
    /// <summary>One input without its batch dimension ([C, H, W] for a conv; [..., in] for a
    /// linear), as the model feeds it: found by <see cref="Folder.Compile"/> running the model once.</summary>
    public long[] InputShape { get; internal set; } = [];

    public AffineLayer(string name, Tensor weight, Tensor bias, ConvGeometry? conv, bool exact)
    {
        Name = name;
        Weight = weight;
        Bias = bias;
        Conv = conv;
        Exact = exact;
    }

    public long Outputs => Weight.shape[0];

    /// <summary>Output positions per image: pixels of a conv, tokens (or 1) of a linear.</summary>
    public long Positions => LayerShape.Of(this).Positions;

    /// <summary>MACs per image.</summary>
    public long Macs => MacsPerOutput * Positions;

    /// <summary>Reads a structure's weight layer and folds its BatchNorm (running statistics):
    /// y = gamma (Wx + b - mean) / sqrt(var + eps) + beta.</summary>
    public static AffineLayer Read(ZooModel model, WeightNode node)
    {
        using var noGrad = no_grad();
        var (weight, bias, conv) = model.Module(node.Module) switch
        {
            Conv2d c when c.padding_mode != PaddingModes.Zeros || c.padding is null || c.dilation.Any(d => d != 1) =>
                throw new NotSupportedException($"{node.Module}: only explicitly zero-padded, undilated convs fold"),
            Conv2d c => (c.weight!.detach().clone(), c.bias?.detach().clone(),
                new ConvGeometry(c.kernel_size, c.stride, c.padding!, c.groups)),
            Linear l => (l.weight!.detach().clone(), l.bias?.detach().clone(), (ConvGeometry?)null),
            var other => throw new NotSupportedException($"{node.Module}: {other.GetType().Name} is not a conv or linear layer"),
        };
        bias ??= zeros(weight.shape[0], device: weight.device);
        var layer = new AffineLayer(node.Norm is null ? node.Module : node.Module + "+" + node.Norm, weight, bias, conv, exact: true);
        if (node.Norm is null) return layer;
        if (model.Module(node.Norm) is not BatchNorm2d bn)
            throw new NotSupportedException($"{node.Norm}: only BatchNorm2d folds into {node.Module}");
        using var scale = bn.weight!.detach() / (bn.running_var!.detach() + bn.eps).sqrt();
        using var shifted = bias - bn.running_mean!.detach();
        using var newBias = shifted * scale + bn.bias!.detach();
        layer.ScaleOutputs(scale);
        layer.Bias.copy_(newBias);
        return layer;
    }

    /// <summary>Multiplies output channel o by scale[o] (a folded BatchNorm or a linearized
    /// activation's 0/1 channel mask).</summary>
    public void ScaleOutputs(Tensor scale)
    {
        using var noGrad = no_grad();
        using var onDevice = scale.to(Weight.device);
        using var column = onDevice.reshape(PerChannel(Weight.dim()));
        Weight.mul_(column);
        using var biasColumn = onDevice.reshape(PerChannel(Bias.dim()));
        Bias.mul_(biasColumn);
    }

    long[] PerChannel(long dims) => [Outputs, .. Enumerable.Repeat(1L, (int)dims - 1)];

    /// <summary>MACs to produce one output position (one pixel of a conv, one row of a linear).</summary>
    public long MacsPerOutput => Weight.numel();

    /// <summary>What the layer computes, on [N, ...InputShape] inputs.</summary>
    public Tensor Apply(Tensor x)
    {
        if (Conv is not { } c)
        {
            using var flat = DescribedNet.LinearInput(x, Weight.shape[1]);
            return nn.functional.linear(flat, Weight, Bias);
        }
        using var y = nn.functional.conv2d(x, Weight, null, strides: c.Stride, padding: c.Padding, groups: c.Groups);
        using var bias = Bias.reshape(BiasShape);
        return y.add(bias);
    }

    /// <summary>The bias as it broadcasts against the output: [out, 1, 1] or [out, H, W] for a conv.</summary>
    public long[] BiasShape => Conv is null ? [Outputs] : Bias.dim() == 1 ? [Outputs, 1, 1] : Bias.shape;

    /// <summary>The exact bias of a linear map f given as a function of [1, ...inputShape]
    /// inputs: f(0), as <see cref="Compact"/> stores it.</summary>
    public static Tensor BiasOf(Func<Tensor, Tensor> f, long[] inputShape, Device device)
    {
        using var noGrad = no_grad();
        using var zero = zeros([1, .. inputShape], device: device);
        using var output = f(zero);
        return Compact(output[0]);
    }

    /// <summary>A constant output [C, H, W] per channel ([C]) when it is the same at every
    /// position, else a copy of it; anything else as a copy.</summary>
    public static Tensor Compact(Tensor map)
    {
        using var noGrad = no_grad();
        if (map.dim() != 3) return map.clone();
        using var first = map[.., 0, 0];
        using var column = first.reshape(first.shape[0], 1, 1);
        using var spread = (map - column).abs().max();
        using var size = map.abs().max();
        return spread.item<float>() > 1e-6f * Math.Max(1f, size.item<float>()) ? map.clone() : first.clone();
    }

    /// <summary>A real TorchSharp layer holding these weights, so counting hooks, training and
    /// export see it.</summary>
    public nn.Module<Tensor, Tensor> ToModule()
    {
        using var noGrad = no_grad();
        if (Conv is null)
        {
            var linear = nn.Linear(Weight.shape[1], Outputs, device: Weight.device);
            linear.weight!.copy_(Weight);
            linear.bias!.copy_(Bias);
            return new FlattenLinear(linear);
        }
        bool perChannel = Bias.dim() == 1;
        var conv = nn.Conv2d(Weight.shape[1] * Conv.Groups, Outputs, (Conv.Kernel[0], Conv.Kernel[1]),
            stride: (Conv.Stride[0], Conv.Stride[1]), padding: (Conv.Padding[0], Conv.Padding[1]), groups: Conv.Groups,
            bias: perChannel, device: Weight.device);
        conv.weight!.copy_(Weight);
        if (perChannel) { conv.bias!.copy_(Bias); return conv; }
        return new ConvWithBiasMap(conv, Bias);
    }

    /// <summary>Copies weights back from a module made by <see cref="ToModule"/> (after healing).</summary>
    public void CopyFrom(nn.Module<Tensor, Tensor> module)
    {
        using var noGrad = no_grad();
        var (weight, bias) = Parameters(module);
        Weight.copy_(weight);
        Bias.copy_(bias);
    }

    /// <summary>Copies these weights into a module made by <see cref="ToModule"/>.</summary>
    public void CopyTo(nn.Module<Tensor, Tensor> module)
    {
        using var noGrad = no_grad();
        var (weight, bias) = Parameters(module);
        weight.copy_(Weight);
        bias.copy_(Bias);
    }

    (Tensor Weight, Tensor Bias) Parameters(nn.Module<Tensor, Tensor> module) => module switch
    {
        FlattenLinear f => (f.Linear.weight!, f.Linear.bias!),
        Conv2d c => (c.weight!, c.bias!),
        ConvWithBiasMap m => (m.Conv.weight!, m.Bias),
        _ => throw new ArgumentException($"{Name}: {module.GetType().Name} was not made from this layer"),
    };

    public void Dispose()
    {
        Weight.Dispose();
        Bias.Dispose();
    }
}

/// <summary>A linear layer that flattens a map first, as the models do between their pool and
/// classifier (not always as a module of its own); see <see cref="DescribedNet.Flattens"/>.</summary>
sealed class FlattenLinear : nn.Module<Tensor, Tensor>
{
    public Linear Linear { get; }

    public FlattenLinear(Linear linear) : base("linear")
    {
        Linear = linear;
        register_module("linear", linear);
    }

    public override Tensor forward(Tensor x)
    {
        using var input = DescribedNet.LinearInput(x, Linear.in_features);
        return Linear.call(input);
    }
}

/// <summary>A conv without bias followed by a per-position bias [C, H, W].</summary>
sealed class ConvWithBiasMap : nn.Module<Tensor, Tensor>
{
    public Conv2d Conv { get; }
    public Parameter Bias { get; }

    public ConvWithBiasMap(Conv2d conv, Tensor bias) : base("conv")
    {
        Conv = conv;
        Bias = new Parameter(bias.detach().clone());
        register_module("conv", conv);
        register_parameter("bias", Bias);
    }

    public override Tensor forward(Tensor x)
    {
        using var y = Conv.call(x);
        return y.add(Bias);
    }
}
