using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using static DepthPrune.Models.Architectures.Layers;

namespace DepthPrune.Models.Architectures;

/// <summary>MobileNetV2 with torchvision's names (features.N.conv.M...). The CIFAR variant
/// uses stride 1 in the stem and in the second stage, so a 32x32 input ends at 4x4.</summary>
public static class MobileNetV2
{
    // expansion t, output channels c, repeats n, first stride s (torchvision's table)
    static readonly (int T, int C, int N, int S)[] Settings =
        [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)];

    static ActivationSlot Relu6(string name, long channels) => new(name, ActivationKind.ReLU6, channels, 1);

    static Group ConvBnRelu6(string path, long inC, long outC, long kernel, long stride, long groups, List<Node> nodes)
    {
        nodes.Add(new WeightNode(path + ".0", path + ".1"));
        nodes.Add(new ActNode(path + ".2"));
        return Named(("0", Conv(inC, outC, kernel, stride, (kernel - 1) / 2, groups)), ("1", Bn(outC)), ("2", Relu6(path + ".2", outC)));
    }

    public static ZooModel Create(ModelOptions o, bool cifar)
    {
        var features = new List<(string, Module)>();
        var nodes = new List<Node>();
        long inC = o.Scale(32, 8);
        features.Add(("0", ConvBnRelu6("features.0", o.InChannels, inC, 3, cifar ? 1 : 2, 1, nodes)));
        int index = 1;
        for (int stage = 0; stage < Settings.Length; stage++)
        {
            var (t, c, n, s) = Settings[stage];
            long outC = o.Scale(c, 8);
            for (int i = 0; i < n; i++)
            {
                long stride = i == 0 ? (cifar && stage == 1 ? 1 : s) : 1;
                string p = $"features.{index}.conv";
                long hidden = inC * t;
                var inner = new List<Node>();
                var layers = new List<(string, Module)>();
                int j = 0;
                if (t != 1) layers.Add(($"{j}", ConvBnRelu6($"{p}.{j++}", inC, hidden, 1, 1, 1, inner)));
                layers.Add(($"{j}", ConvBnRelu6($"{p}.{j++}", hidden, hidden, 3, stride, hidden, inner)));
                layers.Add(($"{j}", Conv(hidden, outC, 1)));
                layers.Add(($"{j + 1}", Bn(outC)));
                inner.Add(new WeightNode($"{p}.{j}", $"{p}.{j + 1}"));
                bool residual = stride == 1 && inC == outC;
                features.Add(($"{index}", Named(("conv", new Group(p, layers)))));
                nodes.Add(residual ? new ResidualNode(new SeqNode(inner), new SeqNode()) : new SeqNode(inner));
                inC = outC;
                index++;
            }
        }
        long last = o.Width > 1 ? o.Scale(1280, 8) : 1280;
        features.Add(($"{index}", ConvBnRelu6($"features.{index}", inC, last, 1, 1, 1, nodes)));
        nodes.AddRange([new OpNode("pool"), new OpNode("flatten"), new TrainingNode("classifier.0"), new WeightNode("classifier.1")]);
        var net = new DescribedNet("mobilenetv2", new SeqNode(nodes), [("features", new Group("features", features)), ("pool", AdaptiveAvgPool2d(1)), ("flatten", Flatten()),
            ("classifier", Named(("0", Dropout(0.2)), ("1", Linear(last, o.Classes))))]);
        InitialiseTorchvisionStyle(net);
        return new ZooModel(cifar ? "mobilenetv2-cifar" : "mobilenetv2", o, net);
    }
}
