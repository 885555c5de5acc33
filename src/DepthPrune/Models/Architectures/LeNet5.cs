using static TorchSharp.torch.nn;
using static DepthPrune.Models.Architectures.Layers;

namespace DepthPrune.Models.Architectures;

/// <summary>LeNet-5 (conv 6, conv 16, fc 120, fc 84) with ReLU and max pooling; inputs smaller
/// than 32 are zero-padded in the first conv so a 28x28 image keeps the classic 5x5x16 map.</summary>
public static class LeNet5
{
    public static ZooModel Create(ModelOptions o)
    {
        int padding = o.InputSize < 32 ? 2 : 0;
        long side = ((o.InputSize + 2 * padding - 4) / 2 - 4) / 2;
        if (side < 1) throw new Runtime.UsageException($"lenet5: input size {o.InputSize} is too small (needs at least 16)");
        int c1 = o.Scale(6), c2 = o.Scale(16), f1 = o.Scale(120), f2 = o.Scale(84);
        (string, Module)[] modules =
        [
            ("conv1", Conv(o.InChannels, c1, 5, padding: padding, bias: true)), ("relu1", Relu("relu1", c1)), ("pool1", MaxPool2d(2)),
            ("conv2", Conv(c1, c2, 5, bias: true)), ("relu2", Relu("relu2", c2)), ("pool2", MaxPool2d(2)),
            ("flatten", Flatten()),
            ("fc1", Linear(c2 * side * side, f1)), ("relu3", Relu("relu3", f1, -1)),
            ("fc2", Linear(f1, f2)), ("relu4", Relu("relu4", f2, -1)),
            ("fc3", Linear(f2, o.Classes)),
        ];
        var structure = new SeqNode(
            new WeightNode("conv1"), new ActNode("relu1"), new OpNode("pool1"),
            new WeightNode("conv2"), new ActNode("relu2"), new OpNode("pool2"),
            new OpNode("flatten"),
            new WeightNode("fc1"), new ActNode("relu3"),
            new WeightNode("fc2"), new ActNode("relu4"),
            new WeightNode("fc3"));
        return new ZooModel("lenet5", o, new DescribedNet("lenet5", structure, modules));
    }
}
