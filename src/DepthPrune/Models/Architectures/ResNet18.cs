using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using static DepthPrune.Models.Architectures.Layers;

namespace DepthPrune.Models.Architectures;

/// <summary>ResNet-18 with torchvision's parameter names. The ImageNet stem is a 7x7/2 conv and
/// a 3x3/2 max pool; the CIFAR stem a 3x3/1 conv and no pool. Each block owns two ReLUs
/// (relu1 inside, relu2 after the residual add), so the model has 17 addressable ReLUs.</summary>
public static class ResNet18
{
    /// <summary>conv1-bn1-relu1-conv2-bn2 plus the shortcut (a 1x1 conv and BN when the shape
    /// changes), then relu2 after the add. The modules are registered in the order optimizer state
    /// has always been saved in, and the convs created in the order the seeded initialisation
    /// follows (conv1, conv2, shortcut).</summary>
    static (Group Modules, Node Description) BasicBlock(string p, long inC, long outC, long stride)
    {
        bool downsample = stride != 1 || inC != outC;
        var modules = new List<(string, Module)>
        {
            ("conv1", Conv(inC, outC, 3, stride, 1)), ("conv2", Conv(outC, outC, 3, 1, 1)), ("bn1", Bn(outC)), ("bn2", Bn(outC)),
            ("relu1", Relu(p + ".relu1", outC)), ("relu2", Relu(p + ".relu2", outC)),
        };
        if (downsample) modules.Add(("downsample", Named(("0", Conv(inC, outC, 1, stride)), ("1", Bn(outC)))));
        var description = new SeqNode(
            new ResidualNode(
                new SeqNode(new WeightNode(p + ".conv1", p + ".bn1"), new ActNode(p + ".relu1"), new WeightNode(p + ".conv2", p + ".bn2")),
                downsample ? new SeqNode(new WeightNode(p + ".downsample.0", p + ".downsample.1")) : new SeqNode()),
            new ActNode(p + ".relu2"));
        return (new Group(p, modules), description);
    }

    public static ZooModel Create(ModelOptions o, bool cifarStem) => Create(o, cifarStem, [2, 2, 2, 2], cifarStem ? "resnet18-cifar" : "resnet18");

    /// <summary>The CNTK-exported "ResNet18" (Microsoft.ML.DnnImageFeaturizer.ResNet18) has a
    /// third block in stage 4; this builds that layout with the same names.</summary>
    public static ZooModel CreateCntk(ModelOptions o) => Create(o, false, [2, 2, 2, 3], "resnet18-cntk");

    static ZooModel Create(ModelOptions o, bool cifarStem, int[] blocks, string name)
    {
        long stem = o.Scale(64);
        var modules = new List<(string, Module)>
        {
            ("conv1", cifarStem ? Conv(o.InChannels, stem, 3, 1, 1) : Conv(o.InChannels, stem, 7, 2, 3)), ("bn1", Bn(stem)), ("relu", Relu("relu", stem)),
        };
        var nodes = new List<Node> { new WeightNode("conv1", "bn1"), new ActNode("relu") };
        if (!cifarStem)
        {
            modules.Add(("maxpool", MaxPool2d(3, 2, 1)));
            nodes.Add(new OpNode("maxpool"));
        }
        long inC = stem;
        void Stage(string stage, int width, long stride, int count)
        {
            long outC = o.Scale(width);
            var stageBlocks = new List<(string, Module)>();
            for (int i = 0; i < count; i++)
            {
                var (block, description) = BasicBlock($"{stage}.{i}", inC, outC, i == 0 ? stride : 1);
                stageBlocks.Add(($"{i}", block));
                nodes.Add(description);
                inC = outC;
            }
            modules.Add((stage, new Group(stage, stageBlocks)));
        }
        Stage("layer1", 64, 1, blocks[0]);
        Stage("layer2", 128, 2, blocks[1]);
        Stage("layer3", 256, 2, blocks[2]);
        Stage("layer4", 512, 2, blocks[3]);
        modules.Add(("avgpool", AdaptiveAvgPool2d(1)));
        modules.Add(("fc", Linear(inC, o.Classes)));
        nodes.AddRange([new OpNode("avgpool"), new WeightNode("fc")]);
        var net = new DescribedNet("resnet18", new SeqNode(nodes), modules);
        InitialiseTorchvisionStyle(net);
        return new ZooModel(name, o, net);
    }
}
