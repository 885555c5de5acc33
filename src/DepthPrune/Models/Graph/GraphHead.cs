using Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DepthPrune.Models.Graph;

/// <summary>A new classifier head on an imported network: the last linear layer replaced when it
/// gives scores for another class count, or flatten + linear attached to a feature output.</summary>
static class GraphHead
{
    public const string Name = "head";

    /// <summary>Adds or replaces units so the network ends in classes scores; returns the new output value.</summary>
    public static string Attach(List<GraphUnit> units, string output, long[] shape, int classes, string source)
    {
        int last = units.FindIndex(u => u.Outputs.Contains(output));
        if (shape is [1, _] && units[last] is { Kind: UnitKind.Weight, Modules: [(_, Linear old)] } scores)
        {
            units[last] = new GraphUnit
            {
                Name = scores.Name, Kind = UnitKind.Weight, Node = scores.Node, DataInputs = scores.DataInputs, Outputs = scores.Outputs,
                Modules = [(scores.Modules[0].Name, Linear(old.in_features, classes))],
            };
            return output;
        }
        bool vector = shape is [1, _];
        bool pooledMap = shape is [1, _, 1, 1];
        if (!vector && !pooledMap)
            throw new Runtime.UsageException($"{source}: output '{output}' has shape [{string.Join(",", shape)}] for one image; a head attaches to features [N, F] or [N, F, 1, 1]");
        string features = output;
        if (pooledMap)
        {
            var flatten = new NodeProto { OpType = "Flatten", Name = Name + "_flatten", Input = { output }, Output = { Name + ":flat" } };
            var op = new GraphOp(Name + "_flatten", flatten, 0, 0, [null]);
            units.Add(new GraphUnit { Name = op.GetName(), Kind = UnitKind.Op, Node = flatten, DataInputs = [output], Outputs = [Name + ":flat"], Modules = [(op.GetName(), op)] });
            features = Name + ":flat";
        }
        var node = new NodeProto { OpType = "Gemm", Name = Name, Input = { features }, Output = { Name + ":scores" } };
        units.Add(new GraphUnit
        {
            Name = Name, Kind = UnitKind.Weight, Node = node, DataInputs = [features], Outputs = [Name + ":scores"],
            Modules = [(Name, Linear(shape[1], classes))],
        });
        return Name + ":scores";
    }
}
