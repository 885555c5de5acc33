using Onnx;
using static TorchSharp.torch;

namespace DepthPrune.Models.Graph;

/// <summary>Exporters before opset 20 write exact GELU as x * (1 + erf(x / sqrt 2)) * 0.5
/// (Div, Erf, Add, Mul, Mul); this finds that pattern and puts one Gelu node in its place, so
/// the rectifier becomes a removable activation.</summary>
static class GeluPattern
{
    public static List<NodeProto> Fuse(List<NodeProto> nodes, IReadOnlyDictionary<string, Tensor> constants)
    {
        var producer = nodes.SelectMany(n => n.Output.Select(o => (o, n))).ToDictionary(p => p.o, p => p.n);
        var consumers = nodes.SelectMany(n => n.Input.Select(i => (i, n))).ToLookup(p => p.i, p => p.n);
        NodeProto? Only(NodeProto node, string op) => consumers[node.Output[0]].ToList() is [var c] && c.OpType == op ? c : null;
        bool Is(string value, double expected) => constants.TryGetValue(value, out var t) && t.numel() == 1 && Math.Abs(OnnxValues.Scalar(t) - expected) < 1e-4;
        string? Other(NodeProto node, string input) => node.Input.Count == 2 && node.Input.Contains(input) ? node.Input.First(i => i != input) : null;

        var replaced = new Dictionary<NodeProto, NodeProto?>();
        foreach (var erf in nodes.Where(n => n.OpType == "Erf"))
        {
            if (!producer.TryGetValue(erf.Input[0], out var div) || div.OpType != "Div" || !Is(div.Input[1], Math.Sqrt(2)) || Only(div, "Erf") != erf) continue;
            string x = div.Input[0];
            if (Only(erf, "Add") is not { } add || Other(add, erf.Output[0]) is not { } one || !Is(one, 1)) continue;
            if (Only(add, "Mul") is not { } times || Other(times, add.Output[0]) != x) continue;
            if (Only(times, "Mul") is not { } half || Other(half, times.Output[0]) is not { } h || !Is(h, 0.5)) continue;
            var gelu = new NodeProto { OpType = "Gelu", Name = erf.Name.EndsWith("Erf", StringComparison.Ordinal) ? erf.Name[..^3] + "Gelu" : erf.Name + "_gelu" };
            gelu.Input.Add(x);
            gelu.Output.Add(half.Output[0]);
            foreach (var n in new[] { div, erf, add, times }) replaced[n] = null;
            replaced[half] = gelu;
        }
        return nodes.Select(n => replaced.TryGetValue(n, out var r) ? r : n).OfType<NodeProto>().ToList();
    }
}
