namespace DepthPrune.Models;

/// <summary>The structural description of a model: the graph that probes, pruning, counting,
/// folding and export read, so no pass knows any architecture. Names are module paths.</summary>
public abstract record Node;

/// <summary>A conv or linear layer, optionally followed by a BatchNorm folded into it.</summary>
public sealed record WeightNode(string Module, string? Norm = null) : Node;

/// <summary>An activation slot (see <see cref="ActivationSlot"/>).</summary>
public sealed record ActNode(string Slot) : Node;

/// <summary>An operation run as the model runs it (pooling, flatten, LayerNorm, attention). It
/// ends a linear chain, even a linear one: folding merges only layers that are adjacent.</summary>
public sealed record OpNode(string Name) : Node;

/// <summary>A module that acts only while training (dropout, stochastic depth) and is the identity
/// in eval mode: the forward pass runs it; probes, counting, folding and export pass over it.</summary>
public sealed record TrainingNode(string Module) : Node;

/// <summary>A chain of nodes applied in order.</summary>
public sealed record SeqNode(IReadOnlyList<Node> Items) : Node
{
    public SeqNode(params Node[] items) : this((IReadOnlyList<Node>)items) { }
}

/// <summary>out = Main(x) + Shortcut(x); an empty shortcut is the identity.</summary>
public sealed record ResidualNode(SeqNode Main, SeqNode Shortcut) : Node;

/// <summary>A one-entry one-exit region of an imported graph that is not series-parallel (a
/// concatenation, a channel shuffle, a gating product), run as one op named Name. Its weight
/// layers and activations are listed in Inside, so probes and removal reach them; folding does not
/// cross it. Layers: the most weight layers on a path through it.</summary>
public sealed record RegionNode(string Name, SeqNode Inside, int Layers) : Node;

/// <summary>An activation and the weight layer that feeds it (through its BatchNorm). For an
/// activation after a residual add it is the main path's last layer, never the shortcut.</summary>
public sealed record PruningPair(string Slot, WeightNode Layer);

public sealed class Structure(SeqNode root)
{
    public SeqNode Root { get; } = root;

    public IEnumerable<Node> Walk() => Walk(Root);

    static IEnumerable<Node> Walk(Node node)
    {
        yield return node;
        IEnumerable<Node> children = node switch
        {
            SeqNode s => s.Items,
            ResidualNode r => [r.Main, r.Shortcut],
            RegionNode g => [g.Inside],
            _ => [],
        };
        foreach (Node child in children)
            foreach (Node n in Walk(child)) yield return n;
    }

    public IReadOnlyList<string> Activations => Walk().OfType<ActNode>().Select(a => a.Slot).ToList();

    public IReadOnlyList<WeightNode> WeightLayers => Walk().OfType<WeightNode>().ToList();

    /// <summary>Weight layers that an op runs itself (Swin-T's attention runs its qkv and proj): they
    /// are listed for probes and counting, but the op, not the chain, applies them.</summary>
    public bool RunByOp(WeightNode layer) => ops.Any(op => Inside(layer, op));

    /// <summary>How many weight layers the op runs itself.</summary>
    public int LayersRunBy(string op) => WeightLayers.Count(w => Inside(w, op));

    // Found once: Folder.Compile asks RunByOp of every layer, and the latency objective compiles per candidate.
    readonly IReadOnlyList<string> ops = Walk(root).OfType<OpNode>().Select(o => o.Name).ToList();

    static bool Inside(WeightNode layer, string op) => layer.Module.StartsWith(op + ".", StringComparison.Ordinal);

    /// <summary>The activations of the top-level block (residual block, inverted residual,
    /// transformer block) that holds the slot; just the slot when it sits at the top level.</summary>
    public IReadOnlyList<string> BlockOf(string slot)
    {
        foreach (var item in Root.Items)
        {
            var slots = Walk(item).OfType<ActNode>().Select(a => a.Slot).ToList();
            if (slots.Contains(slot)) return slots;
        }
        throw new KeyNotFoundException($"no activation slot '{slot}'");
    }

    /// <summary>Each activation with the main-path weight layer that feeds it.</summary>
    public IReadOnlyList<PruningPair> PruningPairs()
    {
        var pairs = new List<PruningPair>();
        Pair(Root, null, pairs);
        return pairs;
    }

    static WeightNode? Pair(Node node, WeightNode? last, List<PruningPair> pairs)
    {
        switch (node)
        {
            case WeightNode w: return w;
            case ActNode a:
                if (last is not null) pairs.Add(new PruningPair(a.Slot, last));
                return last;
            case SeqNode s:
                foreach (Node item in s.Items) last = Pair(item, last, pairs);
                return last;
            case ResidualNode r:
                Pair(r.Shortcut, last, pairs);   // shortcut activations (none in the zoo) pair within it
                return Pair(r.Main, last, pairs);
            case RegionNode g:
                Pair(g.Inside, null, pairs);
                return null;   // what leaves a region mixes several layers' outputs
            default: return last;
        }
    }

    /// <summary>Critical path: the most conv/linear layers on any input-to-output path.</summary>
    public int Depth() => Path(Root, new PathState(0, false), _ => false, fold: false).Count;

    /// <summary>Critical path once linear chains are folded: consecutive weight layers with no
    /// non-linearity between them count once. isLinear tells which activation slots are linear now.</summary>
    public int LinearDepth(Func<string, bool> isLinear) => Path(Root, new PathState(0, false), isLinear, fold: true).Count;

    /// <summary>Count: layers on the path so far; Open: the last one starts a linear chain that a
    /// following weight layer can join.</summary>
    readonly record struct PathState(int Count, bool Open);

    static PathState Path(Node node, PathState state, Func<string, bool> isLinear, bool fold)
    {
        switch (node)
        {
            case WeightNode:
                return fold && state.Open ? state : new PathState(state.Count + 1, true);
            case ActNode a:
                return isLinear(a.Slot) ? state : state with { Open = false };
            case OpNode:
                return state with { Open = false };
            case RegionNode g:
                return new PathState(state.Count + g.Layers, false);
            case SeqNode s:
                foreach (Node item in s.Items) state = Path(item, state, isLinear, fold);
                return state;
            case ResidualNode r when fold && IsLinearMap(r, isLinear):
                // Both branches linear: the block folds into one layer (shortcut in the centre tap).
                return state.Open || !Walk(r).OfType<WeightNode>().Any() ? state : new PathState(state.Count + 1, true);
            case ResidualNode r:
                // A branch's first layer cannot absorb an open chain before the block: the other
                // branch still needs that chain's output, so it would only be duplicated.
                var entry = state with { Open = false };
                var main = Path(r.Main, entry, isLinear, fold);
                var shortcut = Path(r.Shortcut, entry, isLinear, fold);
                return new PathState(Math.Max(main.Count, shortcut.Count), false);
            default:
                return state;
        }
    }

    static bool IsLinearMap(Node node, Func<string, bool> isLinear) => Walk(node).All(n => n switch
    {
        ActNode a => isLinear(a.Slot),
        OpNode or RegionNode => false,
        _ => true,
    });
}
