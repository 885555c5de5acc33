using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DepthPrune.Models;

/// <summary>A network plus its structural description and its activation slots by name.</summary>
public sealed class ZooModel : IDisposable
{
    public string Name { get; }
    public ModelOptions Options { get; }
    public Module<Tensor, Tensor> Net { get; }
    public Structure Structure { get; }
    public IReadOnlyDictionary<string, ActivationSlot> Slots { get; }
    /// <summary>The ONNX file an imported network was built from (checkpoints keep it); null for the zoo.</summary>
    public byte[]? OnnxSource { get; init; }
    /// <summary>The names its ONNX export gives the input and the output (an imported network's own).</summary>
    public string InputName { get; init; } = "input";
    public string OutputName { get; init; } = "logits";
    readonly Dictionary<string, Module> modules;

    public ZooModel(string name, ModelOptions options, Module<Tensor, Tensor> net, SeqNode structure)
    {
        Name = name;
        Options = options;
        Net = net;
        Structure = new Structure(structure);
        modules = net.named_modules().ToDictionary(m => m.name, m => m.module);
        Slots = Structure.Activations.ToDictionary(n => n, n => Module(n) as ActivationSlot
            ?? throw new InvalidOperationException($"{name}: '{n}' is not an ActivationSlot"));
        foreach (var layer in Structure.WeightLayers)
        {
            Module(layer.Module);
            if (layer.Norm is not null) Module(layer.Norm);
        }
    }

    /// <summary>A zoo network: its description is the one its forward pass runs.</summary>
    public ZooModel(string name, ModelOptions options, DescribedNet net) : this(name, options, net, net.Description) { }

    public Module Module(string path) =>
        modules.TryGetValue(path, out var m) ? m : throw new KeyNotFoundException($"{Name}: no module '{path}'");

    /// <summary>The weight tensor of a conv/linear layer named in the structure.</summary>
    public Tensor Weight(WeightNode layer) => Module(layer.Module) switch
    {
        TorchSharp.Modules.Conv2d c => c.weight!,
        TorchSharp.Modules.Linear l => l.weight!,
        TorchSharp.Modules.BatchNorm2d n => n.weight!,
        TorchSharp.Modules.BatchNorm1d n => n.weight!,
        var other => throw new InvalidOperationException($"{layer.Module}: {other.GetType().Name} has no weight"),
    };

    /// <summary>What a pruning mask on this module holds at zero: a conv/linear layer's weight;
    /// a BatchNorm's scale and shift (a masked channel then outputs exactly 0).</summary>
    public IEnumerable<Tensor> Masked(string module)
    {
        yield return Weight(new WeightNode(module));
        if (Module(module) is TorchSharp.Modules.BatchNorm2d { bias: { } b2 }) yield return b2;
        if (Module(module) is TorchSharp.Modules.BatchNorm1d { bias: { } b1 }) yield return b1;
    }

    public int LinearDepth() => Structure.LinearDepth(s => Slots[s].IsLinear);

    public void Dispose() => Net.Dispose();
}
