using static TorchSharp.torch;

namespace DepthPrune.Models.Graph;

/// <summary>Derives the structural description of an imported graph. Walking back from the
/// output, a chain of one-input units is a sequence; a unit on several values closes the region
/// that opened where its inputs last shared a value (their nearest common dominator). An add of
/// two such branches is a residual block (each branch derived the same way, so blocks nest); any
/// other closing unit (concat, product, a reshape fed by Shape) makes the region opaque: one op
/// that entropy and removal still see into and folding does not cross.</summary>
public sealed class GraphStructure
{
    readonly List<GraphUnit> units;
    readonly Dictionary<string, GraphUnit> producer = [];
    readonly ILookup<string, GraphUnit> consumers;
    readonly Dictionary<string, string?> parent = [];
    readonly Dictionary<string, int> depth = [];
    readonly List<Region> regions = [];
    readonly string source;

    sealed record Region(string Name, List<GraphUnit> Units, string Entry, string Exit);

    public SeqNode Root { get; }

    GraphStructure(List<GraphUnit> units, string input, string output, string source)
    {
        this.units = units;
        this.source = source;
        foreach (var unit in units)
            foreach (var o in unit.Outputs.Where(o => o.Length > 0)) producer[o] = unit;
        consumers = units.SelectMany(u => u.DataInputs.Distinct().Select(i => (i, u))).ToLookup(p => p.i, p => p.u);
        Root = new SeqNode(Build(output, input));
    }

    public static GraphStructure Derive(List<GraphUnit> units, string input, string output, string source) => new(units, input, output, source);

    /// <summary>The network: units outside regions in file order, each region as one module.</summary>
    public GraphProgram Program(string input, string output, IReadOnlyDictionary<string, Tensor> constants)
    {
        var inRegion = regions.SelectMany(r => r.Units.Select(u => (u, r))).ToDictionary(p => p.u, p => p.r);
        var steps = new List<(string, GraphStep)>();
        foreach (var unit in units)
        {
            if (!inRegion.TryGetValue(unit, out var region)) { steps.AddRange(unit.Steps()); continue; }
            if (unit != region.Units[^1]) continue;
            var inner = new GraphProgram(region.Name, region.Entry, region.Exit, region.Units.SelectMany(u => u.Steps()).ToList(), constants);
            steps.Add((region.Name, new GraphStep([region.Entry], [region.Exit], inner, null)));
        }
        return new GraphProgram("graph", input, output, steps, constants);
    }

    /// <summary>The items that compute value from stop, in order.</summary>
    List<Node> Build(string value, string stop)
    {
        var items = new List<Node>();
        while (value != stop)
        {
            var unit = Producer(value);
            if (unit.Kind != UnitKind.Join)
            {
                items.Insert(0, unit.Describe(""));
                value = unit.DataInputs[0];
                continue;
            }
            string fork = Lca(unit.DataInputs);
            var region = Between(fork, unit);
            var leaks = region.Where(u => u != unit).SelectMany(u => u.Outputs.SelectMany(o => consumers[o])).Where(c => !region.Contains(c)).ToList();
            if (leaks.Count > 0)
                throw new Runtime.UsageException($"{source}: the values between '{fork}' and {OnnxValues.Describe(unit.Node)} are also read by {OnnxValues.Describe(leaks[0].Node)}; DepthPrune imports graphs whose branches meet where they end (series-parallel, or one-entry one-exit regions)");
            if (unit.Node.OpType == "Add" && unit.DataInputs.Count == 2)
            {
                var first = Build(unit.DataInputs[0], fork);
                var second = Build(unit.DataInputs[1], fork);
                bool firstIsMain = Weights(first) >= Weights(second);
                items.Insert(0, new ResidualNode(new SeqNode(firstIsMain ? first : second), new SeqNode(firstIsMain ? second : first)));
            }
            else items.Insert(0, Opaque(units.Where(region.Contains).ToList(), fork, unit));   // file order: a pad before its conv
            value = fork;
        }
        return items;
    }

    static int Weights(List<Node> items) => items.Sum(i => new Structure(new SeqNode(i)).WeightLayers.Count);

    Node Opaque(List<GraphUnit> inside, string entry, GraphUnit exit)
    {
        string name = "region_" + exit.Name;
        regions.Add(new Region(name, inside, entry, exit.Outputs[0]));
        var items = inside.Where(u => u.Kind is UnitKind.Weight or UnitKind.Activation).Select(u => u.Describe(name + ".")).ToList();
        return new RegionNode(name, new SeqNode(items), CriticalPath(inside, entry, exit.Outputs[0]));
    }

    /// <summary>The most weight layers on any path through the region.</summary>
    static int CriticalPath(List<GraphUnit> inside, string entry, string exit)
    {
        var layers = new Dictionary<string, int> { [entry] = 0 };
        foreach (var unit in inside)
        {
            int before = unit.DataInputs.Select(i => layers.GetValueOrDefault(i)).DefaultIfEmpty(0).Max();
            foreach (var o in unit.Outputs) layers[o] = before + (unit.Kind == UnitKind.Weight ? 1 : 0);
        }
        return layers[exit];
    }

    /// <summary>The units on paths from fork to exit, exit included.</summary>
    HashSet<GraphUnit> Between(string fork, GraphUnit exit)
    {
        var found = new HashSet<GraphUnit> { exit };
        var pending = new Stack<string>(exit.DataInputs);
        while (pending.TryPop(out var value))
        {
            if (value == fork) continue;
            var unit = Producer(value);
            if (found.Add(unit))
                foreach (var i in unit.DataInputs) pending.Push(i);
        }
        return found;
    }

    GraphUnit Producer(string value) => producer.TryGetValue(value, out var unit) ? unit
        : throw new InvalidOperationException($"{source}: value '{value}' has no producer on the data path");

    /// <summary>The nearest value every path from the input to value passes through (null: the input).</summary>
    string? Parent(string value)
    {
        if (parent.TryGetValue(value, out var known)) return known;
        string? result = null;
        if (producer.TryGetValue(value, out var unit))
            result = unit.DataInputs.Distinct().Count() == 1 ? unit.DataInputs[0] : Lca(unit.DataInputs);
        return parent[value] = result;
    }

    int Depth(string value)
    {
        if (depth.TryGetValue(value, out int known)) return known;
        return depth[value] = Parent(value) is { } p ? Depth(p) + 1 : 0;
    }

    string Lca(IEnumerable<string> values) => values.Aggregate((a, b) =>
    {
        while (a != b)
        {
            if (Depth(a) >= Depth(b)) a = Parent(a) ?? throw new InvalidOperationException($"{source}: '{a}' and '{b}' share no value");
            else b = Parent(b) ?? throw new InvalidOperationException($"{source}: '{a}' and '{b}' share no value");
        }
        return a;
    });
}
