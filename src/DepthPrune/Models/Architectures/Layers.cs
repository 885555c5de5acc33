using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DepthPrune.Models.Architectures;

/// <summary>Small constructors shared by the architectures (torchvision's defaults).</summary>
static class Layers
{
    public static Conv2d Conv(long inC, long outC, long kernel, long stride = 1, long padding = 0, long groups = 1, bool bias = false) =>
        Conv2d(inC, outC, kernel, stride: stride, padding: padding, groups: groups, bias: bias);

    public static BatchNorm2d Bn(long channels) => BatchNorm2d(channels);

    public static ActivationSlot Relu(string name, long channels, int channelDim = 1) => new(name, ActivationKind.ReLU, channels, channelDim);

    /// <summary>Modules under their torchvision names; the model's description runs them.</summary>
    public static Group Named(params (string Name, Module Module)[] items) => new("group", items);

    /// <summary>Kaiming-normal conv weights (fan_out), BN weight 1 / bias 0, small normal linears,
    /// as torchvision initialises ResNet, VGG and MobileNetV2.</summary>
    public static void InitialiseTorchvisionStyle(Module net)
    {
        using var noGrad = no_grad();
        foreach (var (_, module) in net.named_modules())
        {
            switch (module)
            {
                case Conv2d c:
                    init.kaiming_normal_(c.weight!, mode: init.FanInOut.FanOut, nonlinearity: init.NonlinearityType.ReLU);
                    if (c.bias is not null) init.zeros_(c.bias);
                    break;
                case BatchNorm2d b:
                    init.ones_(b.weight!);
                    init.zeros_(b.bias!);
                    break;
                case Linear l:
                    init.normal_(l.weight!, 0, 0.01);
                    if (l.bias is not null) init.zeros_(l.bias);
                    break;
            }
        }
    }
}
