using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using static DepthPrune.Models.Architectures.Layers;

namespace DepthPrune.Models.Architectures;

/// <summary>ResNet-18 with torchvision's parameter names. The ImageNet stem is a 7x7/2 conv and
/// a 3x3/2 max pool; the CIFAR stem a 3x3/1 conv and no pool. Each block owns two ReLUs
/// (relu1 inside, relu2 after the residual add), so the model has 17 addressable ReLUs.</summary>
public static class ResNet18
{
    sealed class BasicBlock : Module<Tensor, Tensor>
    {
        readonly Conv2d conv1, conv2;
        readonly BatchNorm2d bn1, bn2;
        readonly ActivationSlot relu1, relu2;
        readonly Sequential? downsample;

        public BasicBlock(string path, long inC, long outC, long stride) : base(path)
        {
            conv1 = Conv(inC, outC, 3, stride, 1);
            bn1 = Bn(outC);
            relu1 = Relu(path + ".relu1", outC);
            conv2 = Conv(outC, outC, 3, 1, 1);
            bn2 = Bn(outC);
            relu2 = Relu(path + ".relu2", outC);
            if (stride != 1 || inC != outC) downsample = Named(("0", Conv(inC, outC, 1, stride)), ("1", Bn(outC)));
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            var main = bn2.call(conv2.call(relu1.call(bn1.call(conv1.call(x)))));
            var shortcut = downsample is null ? x : downsample.call(x);
            return relu2.call(main.add_(shortcut)).MoveToOuterDisposeScope();
        }

        public static Node Describe(string p, bool hasDownsample) => new SeqNode(
            new ResidualNode(
                new SeqNode(new WeightNode(p + ".conv1", p + ".bn1"), new ActNode(p + ".relu1"), new WeightNode(p + ".conv2", p + ".bn2")),
                hasDownsample ? new SeqNode(new WeightNode(p + ".downsample.0", p + ".downsample.1")) : new SeqNode()),
            new ActNode(p + ".relu2"));
    }

    sealed class Net : Module<Tensor, Tensor>
    {
        readonly Conv2d conv1;
        readonly BatchNorm2d bn1;
        readonly ActivationSlot relu;
        readonly Module<Tensor, Tensor> maxpool;
        readonly Sequential layer1, layer2, layer3, layer4;
        readonly AdaptiveAvgPool2d avgpool;
        readonly Linear fc;
        public readonly List<Node> Blocks = [];

        public Net(ModelOptions o, bool cifarStem, int[] blocks) : base("resnet18")
        {
            long stem = o.Scale(64);
            conv1 = cifarStem ? Conv(o.InChannels, stem, 3, 1, 1) : Conv(o.InChannels, stem, 7, 2, 3);
            bn1 = Bn(stem);
            relu = Relu("relu", stem);
            maxpool = cifarStem ? Identity() : MaxPool2d(3, 2, 1);
            long inC = stem;
            Sequential Stage(string name, int width, long stride, int count)
            {
                long outC = o.Scale(width);
                var stage = new List<(string, Module<Tensor, Tensor>)>();
                for (int i = 0; i < count; i++)
                {
                    long s = i == 0 ? stride : 1;
                    stage.Add(($"{i}", new BasicBlock($"{name}.{i}", inC, outC, s)));
                    Blocks.Add(BasicBlock.Describe($"{name}.{i}", s != 1 || inC != outC));
                    inC = outC;
                }
                return Sequential(stage);
            }
            layer1 = Stage("layer1", 64, 1, blocks[0]);
            layer2 = Stage("layer2", 128, 2, blocks[1]);
            layer3 = Stage("layer3", 256, 2, blocks[2]);
            layer4 = Stage("layer4", 512, 2, blocks[3]);
            avgpool = AdaptiveAvgPool2d(1);
            fc = Linear(inC, o.Classes);
            RegisterComponents();
            InitialiseTorchvisionStyle(this);
        }

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            var y = maxpool.call(relu.call(bn1.call(conv1.call(x))));
            y = layer4.call(layer3.call(layer2.call(layer1.call(y))));
            return fc.call(avgpool.call(y).flatten(1)).MoveToOuterDisposeScope();
        }
    }

    public static ZooModel Create(ModelOptions o, bool cifarStem) => Create(o, cifarStem, [2, 2, 2, 2], cifarStem ? "resnet18-cifar" : "resnet18");

    /// <summary>The CNTK-exported "ResNet18" (Microsoft.ML.DnnImageFeaturizer.ResNet18) has a
    /// third block in stage 4; this builds that layout with the same names.</summary>
    public static ZooModel CreateCntk(ModelOptions o) => Create(o, false, [2, 2, 2, 3], "resnet18-cntk");

    static ZooModel Create(ModelOptions o, bool cifarStem, int[] blocks, string name)
    {
        var net = new Net(o, cifarStem, blocks);
        var items = new List<Node> { new WeightNode("conv1", "bn1"), new ActNode("relu") };
        if (!cifarStem) items.Add(new OpNode("maxpool"));
        items.AddRange(net.Blocks);
        items.Add(new OpNode("avgpool"));
        items.Add(new WeightNode("fc"));
        return new ZooModel(name, o, net, new SeqNode(items));
    }
}
