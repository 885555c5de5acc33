using static TorchSharp.torch.nn;
using static DepthPrune.Models.Architectures.Layers;

namespace DepthPrune.Models.Architectures;

/// <summary>A fully connected net: flatten, three hidden layers of 512*width with ReLU, classifier.</summary>
public static class Mlp
{
    public static ZooModel Create(ModelOptions o)
    {
        long inputs = (long)o.InChannels * o.InputSize * o.InputSize;
        int hidden = o.Scale(512);
        (string, Module)[] modules =
        [
            ("flatten", Flatten()),
            ("fc1", Linear(inputs, hidden)), ("relu1", Relu("relu1", hidden, -1)),
            ("fc2", Linear(hidden, hidden)), ("relu2", Relu("relu2", hidden, -1)),
            ("fc3", Linear(hidden, hidden)), ("relu3", Relu("relu3", hidden, -1)),
            ("fc4", Linear(hidden, o.Classes)),
        ];
        var structure = new SeqNode(
            new OpNode("flatten"),
            new WeightNode("fc1"), new ActNode("relu1"),
            new WeightNode("fc2"), new ActNode("relu2"),
            new WeightNode("fc3"), new ActNode("relu3"),
            new WeightNode("fc4"));
        return new ZooModel("mlp", o, new DescribedNet("mlp", structure, modules));
    }
}
