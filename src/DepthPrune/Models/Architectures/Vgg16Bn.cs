using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using static DepthPrune.Models.Architectures.Layers;

namespace DepthPrune.Models.Architectures;

/// <summary>VGG-16 with BatchNorm, torchvision layout and names (features.N, classifier.N):
/// 13 conv+BN+ReLU, five max pools, a 7x7 adaptive average pool and a three-layer classifier
/// with two ReLUs, 15 ReLUs in all.</summary>
public static class Vgg16Bn
{
    static readonly int[] Config = [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0];

    public static ZooModel Create(ModelOptions o)
    {
        var features = new List<(string, Module)>();
        var nodes = new List<Node>();
        long inC = o.InChannels;
        int index = 0;
        foreach (int width in Config)
        {
            if (width == 0)
            {
                features.Add(($"{index}", MaxPool2d(2, 2)));
                nodes.Add(new OpNode($"features.{index++}"));
                continue;
            }
            long outC = o.Scale(width);
            features.Add(($"{index}", Conv(inC, outC, 3, padding: 1, bias: true)));
            features.Add(($"{index + 1}", Bn(outC)));
            features.Add(($"{index + 2}", Relu($"features.{index + 2}", outC)));
            nodes.Add(new WeightNode($"features.{index}", $"features.{index + 1}"));
            nodes.Add(new ActNode($"features.{index + 2}"));
            index += 3;
            inC = outC;
        }
        long hidden = o.Scale(4096);
        var classifier = Named(
            ("0", Linear(inC * 49, hidden)), ("1", Relu("classifier.1", hidden, -1)), ("2", Dropout(0.5)),
            ("3", Linear(hidden, hidden)), ("4", Relu("classifier.4", hidden, -1)), ("5", Dropout(0.5)),
            ("6", Linear(hidden, o.Classes)));
        nodes.AddRange([
            new OpNode("avgpool"), new OpNode("flatten"),
            new WeightNode("classifier.0"), new ActNode("classifier.1"), new TrainingNode("classifier.2"),
            new WeightNode("classifier.3"), new ActNode("classifier.4"), new TrainingNode("classifier.5"),
            new WeightNode("classifier.6")]);
        var net = new DescribedNet("vgg16bn", new SeqNode(nodes), [("features", new Group("features", features)), ("avgpool", AdaptiveAvgPool2d(7)), ("flatten", Flatten()), ("classifier", classifier)]);
        InitialiseTorchvisionStyle(net);
        return new ZooModel("vgg16bn", o, net);
    }
}
