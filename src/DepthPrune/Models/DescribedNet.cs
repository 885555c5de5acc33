using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DepthPrune.Models;

/// <summary>A zoo network whose forward pass is its structural description run on the modules
/// the description names: the shape is written once, so what probes, folding, counting and
/// export read is what trains. The children keep torchvision's names (conv1, layer1.0.bn2, ...).</summary>
public sealed class DescribedNet : Module<Tensor, Tensor>
{
    public SeqNode Description { get; }
    readonly Dictionary<string, Module<Tensor, Tensor>> byPath;
    readonly HashSet<string> runByOps;

    public DescribedNet(string name, SeqNode description, IEnumerable<(string Name, Module Module)> children) : base(name)
    {
        Description = description;
        foreach (var (child, module) in children) register_module(child, module);
        byPath = named_modules().Where(m => m.module is Module<Tensor, Tensor>).ToDictionary(m => m.name, m => (Module<Tensor, Tensor>)m.module);
        var structure = new Structure(description);
        runByOps = structure.WeightLayers.Where(structure.RunByOp).Select(w => w.Module).ToHashSet();
        foreach (var node in structure.Walk())
            foreach (var path in Named(node)) Module(path);   // a name the modules lack fails here, not mid-training
    }

    public override Tensor forward(Tensor x) => Run(Description, x);

    /// <summary>One part of the description (a block, a branch) run on x, as the forward pass runs it.</summary>
    public Tensor Run(Node node, Tensor x)
    {
        using var scope = NewDisposeScope();
        return Step(node, x).MoveToOuterDisposeScope();
    }

    // Intermediate values are released as soon as they are consumed (autograd keeps what it needs):
    // held to the end of the pass, they made evaluation three times slower.
    Tensor Step(Node node, Tensor x) => node switch
    {
        WeightNode w when runByOps.Contains(w.Module) => x,
        WeightNode w => w.Norm is null ? Layer(w.Module, x) : Then(Layer(w.Module, x), Module(w.Norm).call),
        ActNode a => Module(a.Slot).call(x),
        OpNode o => Module(o.Name).call(x),
        TrainingNode t => Module(t.Module).call(x),
        RegionNode g => Module(g.Name).call(x),
        SeqNode s => s.Items.Aggregate(x, (y, item) => ReferenceEquals(y, x) ? Step(item, y) : Then(y, v => Step(item, v))),
        ResidualNode r => Sum(Step(r.Main, x), r.Shortcut.Items.Count == 0 ? x : Step(r.Shortcut, x), x),
        _ => throw new NotSupportedException($"{GetName()}: {node.GetType().Name} does not run"),
    };

    /// <summary>f(y), then y released unless f returned y itself.</summary>
    static Tensor Then(Tensor y, Func<Tensor, Tensor> f)
    {
        var next = f(y);
        if (!ReferenceEquals(next, y)) y.Dispose();
        return next;
    }

    static Tensor Sum(Tensor main, Tensor shortcut, Tensor input)
    {
        var sum = main.add(shortcut);
        foreach (var t in new[] { main, shortcut }.Distinct())
            if (!ReferenceEquals(t, input)) t.Dispose();
        return sum;
    }

    Tensor Layer(string path, Tensor x)
    {
        if (Module(path) is not Linear linear) return Module(path).call(x);
        using var flat = LinearInput(x, linear.in_features);
        return linear.call(flat);
    }

    Module<Tensor, Tensor> Module(string path) =>
        byPath.TryGetValue(path, out var m) ? m : throw new KeyNotFoundException($"{GetName()}: the description names '{path}', which is not a module");

    static IEnumerable<string> Named(Node node) => node switch
    {
        WeightNode w => w.Norm is null ? [w.Module] : [w.Module, w.Norm],
        ActNode a => [a.Slot],
        OpNode o => [o.Name],
        TrainingNode t => [t.Module],
        RegionNode g => [g.Name],
        _ => [],
    };

    /// <summary>What a linear layer reads: [B, C, H, W] maps flattened (the models flatten between
    /// their pool and classifier); token layouts [B, ..., in] as they are.</summary>
    public static bool Flattens(long[] shape, long inFeatures) => shape.Length > 2 && shape[^1] != inFeatures;

    internal static Tensor LinearInput(Tensor x, long inFeatures) => Flattens(x.shape, inFeatures) ? x.flatten(1) : x.alias();
}

/// <summary>Named modules held under one path (a block, a stage, a classifier) so parameters keep
/// their names. It has no forward pass: the model's description runs what it holds.</summary>
public sealed class Group : Module<Tensor, Tensor>
{
    public Group(string name, IEnumerable<(string Name, Module Module)> items) : base(name)
    {
        foreach (var (item, module) in items) register_module(item, module);
    }

    public override Tensor forward(Tensor x) => throw new InvalidOperationException($"{GetName()}: runs through its model's description (DescribedNet), not on its own");
}
