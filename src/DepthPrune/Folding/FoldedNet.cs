using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DepthPrune.Folding;

/// <summary>Fold stages as a runnable network: merged layers become real Conv2d/Linear modules
/// it owns; activations and ops are borrowed from the original model (not registered, so
/// disposing this network leaves them alone): keep that model alive while this one runs.</summary>
public sealed class FoldedNet : Module<Tensor, Tensor>
{
    readonly Sequential body;
    readonly List<(AffineLayer Layer, Module<Tensor, Tensor> Module)> layers = [];

    public FoldedNet(IReadOnlyList<FoldStage> stages) : base("folded")
    {
        body = Build(stages);
        RegisterComponents();
        eval();
    }

    Sequential Build(IReadOnlyList<FoldStage> stages) => Sequential(stages.Select((stage, i) => ($"{i}", stage switch
    {
        AffineStage a => Layer(a.Layer),
        ModuleStage m => new Borrowed(m.Name, m.Module),
        BiasStage b => new AddBias(b),
        ResidualStage r => new Residual(Build(r.Main), Build(r.Shortcut)),
        _ => throw new NotSupportedException(stage.GetType().Name),
    })).ToArray());

    Module<Tensor, Tensor> Layer(AffineLayer layer)
    {
        var module = layer.ToModule();
        layers.Add((layer, module));
        return module;
    }

    public override Tensor forward(Tensor x) => body.call(x);

    /// <summary>Copies this network's (healed) weights back into the stages it was built from,
    /// so that exporting those stages exports what was trained.</summary>
    public void WriteBack()
    {
        foreach (var (layer, module) in layers) layer.CopyFrom(module);
    }

    /// <summary>Puts the stages' weights back into this network (undoes training it).</summary>
    public void Restore()
    {
        foreach (var (layer, module) in layers) layer.CopyTo(module);
    }

    /// <summary>Calls a module of the original model through a delegate, which module
    /// registration does not follow.</summary>
    sealed class Borrowed(string name, Module<Tensor, Tensor> module) : Module<Tensor, Tensor>(name)
    {
        readonly Func<Tensor, Tensor> run = module.call;

        public override Tensor forward(Tensor x) => run(x);
    }

    /// <summary>Adds a constant bias stage (not trained when healing).</summary>
    sealed class AddBias : Module<Tensor, Tensor>
    {
        readonly BiasStage stage;

        public AddBias(BiasStage stage) : base(stage.Name) => this.stage = stage;

        public override Tensor forward(Tensor x)
        {
            using var bias = stage.Broadcastable(x.dim());
            return x.add(bias);
        }
    }

    sealed class Residual : Module<Tensor, Tensor>
    {
        readonly Sequential main, shortcut;
        readonly bool identity;

        public Residual(Sequential main, Sequential shortcut) : base("residual")
        {
            this.main = main;
            this.shortcut = shortcut;
            identity = !shortcut.children().Any();
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            // Out of place: a main path of weight-free ops may hand back x itself.
            return main.call(x).add(identity ? x : shortcut.call(x)).MoveToOuterDisposeScope();
        }
    }
}
