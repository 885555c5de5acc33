using TorchSharp;
using TorchSharp.Modules;
using DepthPrune.Models;
using static TorchSharp.torch;

namespace DepthPrune.Folding;

/// <summary>Where a conv's kernel sits: square or not, zero padding only.</summary>
public sealed record ConvGeometry(long[] Kernel, long[] Stride, long[] Padding, long Groups);

/// <summary>A conv or linear layer as plain tensors (eval mode), with its BatchNorm and any
/// per-channel scaling already folded in, so that chains of them can be merged.</summary>
public sealed class AffineLayer : IDisposable
{
    /// <summary>The original layers it stands for, joined by '+'.</summary>
    public string Name { get; }
    /// <summary>[out, in/groups, kh, kw] for a conv, [out, in] for a linear.</summary>
    public Tensor Weight { get; private set; }
    public Tensor Bias { get; private set; }
    /// <summary>Null for a linear layer.</summary>
    public ConvGeometry? Conv { get; }
    /// <summary>False once a merge moved padding inside the chain: the borders then differ.</summary>
    public bool Exact { get; }

    public AffineLayer(string name, Tensor weight, Tensor bias, ConvGeometry? conv, bool exact)
    {
        Name = name;
        Weight = weight;
        Bias = bias;
        Conv = conv;
        Exact = exact;
    }

    public long Outputs => Weight.shape[0];

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
        var shape = Enumerable.Repeat(1L, (int)Weight.dim()).ToArray();
        shape[0] = Outputs;
        using var column = scale.to(Weight.device).reshape(shape);
        Weight.mul_(column);
        Bias.mul_(scale.to(Bias.device));
    }

    /// <summary>MACs to produce one output position (one pixel of a conv, one row of a linear).</summary>
    public long MacsPerOutput => Weight.numel();

    /// <summary>A real TorchSharp layer holding these weights, so counting hooks and export see it.</summary>
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
        var conv = nn.Conv2d(Weight.shape[1] * Conv.Groups, Outputs, (Conv.Kernel[0], Conv.Kernel[1]),
            stride: (Conv.Stride[0], Conv.Stride[1]), padding: (Conv.Padding[0], Conv.Padding[1]), groups: Conv.Groups, device: Weight.device);
        conv.weight!.copy_(Weight);
        conv.bias!.copy_(Bias);
        return conv;
    }

    public void Dispose()
    {
        Weight.Dispose();
        Bias.Dispose();
    }
}

/// <summary>A linear layer that flattens a [B, C, 1, 1] input first, as the models do between
/// their global pool and classifier (not always as a module of its own).</summary>
sealed class FlattenLinear : nn.Module<Tensor, Tensor>
{
    readonly Linear linear;

    public FlattenLinear(Linear linear) : base("linear")
    {
        this.linear = linear;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => linear.call(x.dim() > 2 ? x.flatten(1) : x);
}
