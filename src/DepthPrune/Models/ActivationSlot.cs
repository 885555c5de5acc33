using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DepthPrune.Models;

public enum ActivationKind { ReLU, ReLU6, LeakyReLU, GELU, PReLU }

/// <summary>What an activation slot currently computes.</summary>
public enum SlotMode
{
    /// <summary>The original non-linearity.</summary>
    Nonlinear,
    /// <summary>Removed: output = input.</summary>
    Identity,
    /// <summary>Linearized per channel: output = input * mask (1 where always ON, 0 where always OFF).</summary>
    ChannelMask,
    /// <summary>Layer Folding baseline: PReLU with a learnable per-layer slope (linear at slope 1).</summary>
    PReLU,
}

/// <summary>Receives the pre-activation of a slot during an entropy probe.</summary>
public interface IActivationObserver
{
    void Observe(Tensor preActivation, int channelDim);
}

/// <summary>Every non-linearity of a zoo model is one of these, addressable by its module name,
/// so methods can measure it (observer), remove it (Identity), mask it or swap it for PReLU.
/// It holds no parameters unless it is in PReLU mode, so state_dicts stay torchvision-compatible;
/// a PReLU kind (imported networks) owns its learned slopes as "weight", as torch's PReLU does.</summary>
public sealed class ActivationSlot : Module<Tensor, Tensor>
{
    public ActivationKind Kind { get; }
    /// <summary>Number of neurons (channels or features).</summary>
    public long Channels { get; }
    /// <summary>1 for conv layouts [B,C,H,W], -1 for token/linear layouts [B,...,C].</summary>
    public int ChannelDim { get; }
    public SlotMode Mode { get; private set; } = SlotMode.Nonlinear;
    public float[]? Mask { get; private set; }
    /// <summary>Neurons removed while the layer stays non-linear (NEPENTHE's always-OFF
    /// neurons): their output is held at 0, which on the probed data it already was.</summary>
    public float[]? Alive { get; private set; }
    public Parameter? Slope { get; private set; }
    public IActivationObserver? Observer { get; set; }
    /// <summary>LeakyReLU's slope for negative inputs (imported networks bring their own).</summary>
    public double NegativeSlope { get; init; } = 0.01;

    /// <summary>A PReLU kind's slopes for negative inputs: one per neuron, or one for the layer.</summary>
    public Parameter? Weight { get; }

    public ActivationSlot(string name, ActivationKind kind, long channels, int channelDim) : base(name)
    {
        if (kind == ActivationKind.PReLU) throw new ArgumentException($"{name}: a PReLU slot needs its slopes (ActivationSlot.Parametric)");
        Kind = kind;
        Channels = channels;
        ChannelDim = channelDim;
    }

    ActivationSlot(string name, long channels, int channelDim, Tensor slopes) : base(name)
    {
        if (slopes.numel() != 1 && slopes.numel() != channels)
            throw new ArgumentException($"{name}: {slopes.numel()} PReLU slopes for {channels} neurons; expected 1 or {channels}");
        Kind = ActivationKind.PReLU;
        Channels = channels;
        ChannelDim = channelDim;
        Weight = new Parameter(slopes.flatten().to(ScalarType.Float32).clone());
        register_parameter("weight", Weight);
    }

    /// <summary>A PReLU: max(0, x) + slope * min(0, x), slopes learned per neuron or per layer.</summary>
    public static ActivationSlot Parametric(string name, long channels, int channelDim, Tensor slopes) => new(name, channels, channelDim, slopes);

    public override Tensor forward(Tensor input)
    {
        Observer?.Observe(input, ChannelDim);
        switch (Mode)
        {
            case SlotMode.Identity:
                return input.alias();
            case SlotMode.ChannelMask:
                using (var mask = tensor(Mask!, device: input.device).reshape(MaskShape(input)))
                    return input.mul(mask);
            case SlotMode.PReLU:
                return nn.functional.prelu(input, Slope!);
            default:
                var output = Kind switch
                {
                    ActivationKind.ReLU => nn.functional.relu(input),
                    ActivationKind.ReLU6 => nn.functional.relu6(input),
                    ActivationKind.LeakyReLU => nn.functional.leaky_relu(input, NegativeSlope),
                    ActivationKind.PReLU => where(input.ge(0), input, input.mul(Weight!.numel() == 1 ? Weight : Weight.reshape(MaskShape(input)))),
                    _ => nn.functional.gelu(input),
                };
                if (Alive is null) return output;
                using (var alive = tensor(Alive, device: input.device).reshape(MaskShape(input)))
                using (output)
                    return output.mul(alive);
        }
    }

    /// <summary>Holds the given neurons at zero (NEPENTHE); the others stay non-linear.</summary>
    public void SetAlive(float[]? alive)
    {
        if (alive is not null && alive.Length != Channels) throw new ArgumentException($"{GetName()}: alive mask has {alive.Length} entries, layer has {Channels} neurons");
        Alive = alive is null || alive.All(a => a == 1f) ? null : alive;
    }

    long[] MaskShape(Tensor input)
    {
        var shape = Enumerable.Repeat(1L, (int)input.dim()).ToArray();
        shape[ChannelDim < 0 ? shape.Length + ChannelDim : ChannelDim] = Channels;
        return shape;
    }

    public bool IsLinear => Mode is SlotMode.Identity or SlotMode.ChannelMask;

    public void SetIdentity() { DropSlope(); Mode = SlotMode.Identity; Mask = null; Alive = null; }

    public void SetNonlinear() { DropSlope(); Mode = SlotMode.Nonlinear; Mask = null; }

    public void SetChannelMask(float[] mask)
    {
        if (mask.Length != Channels) throw new ArgumentException($"{GetName()}: mask has {mask.Length} entries, layer has {Channels} neurons");
        DropSlope();
        if (mask.All(m => m == 1f)) { SetIdentity(); return; }
        Mode = SlotMode.ChannelMask;
        Mask = mask;
        Alive = null;
    }

    /// <summary>PReLU with one learnable slope (PReLU; Dror et al. initialise it at 0 = ReLU).</summary>
    public void SetPReLU(float initialSlope, Device device)
    {
        Mode = SlotMode.PReLU;
        Mask = null;
        Slope ??= new Parameter(full(1, initialSlope, device: device));
        register_parameter("slope", Slope);
    }

    void DropSlope()
    {
        if (Slope is null) return;
        _internal_params.Remove("slope");
        Slope.Dispose();
        Slope = null;
    }
}
