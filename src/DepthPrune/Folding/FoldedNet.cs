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

    public FoldedNet(IReadOnlyList<FoldStage> stages) : base("folded")
    {
        body = Build(stages);
        RegisterComponents();
        eval();
    }

    static Sequential Build(IReadOnlyList<FoldStage> stages) => Sequential(stages.Select((stage, i) => ($"{i}", stage switch
    {
        AffineStage a => a.Layer.ToModule(),
        ModuleStage m => new Borrowed(m.Name, m.Module),
        BiasStage b => new AddBias(b.Name, b.Bias),
        ResidualStage r => new Residual(Build(r.Main), Build(r.Shortcut)),
        _ => throw new NotSupportedException(stage.GetType().Name),
    })).ToArray());

    public override Tensor forward(Tensor x) => body.call(x);

    /// <summary>Calls a module of the original model through a delegate, which module
    /// registration does not follow.</summary>
    sealed class Borrowed(string name, Module<Tensor, Tensor> module) : Module<Tensor, Tensor>(name)
    {
        readonly Func<Tensor, Tensor> run = module.call;

        public override Tensor forward(Tensor x) => run(x);
    }

    /// <summary>Adds a per-channel constant to [N, C, ...] inputs.</summary>
    sealed class AddBias : Module<Tensor, Tensor>
    {
        readonly Parameter bias;

        public AddBias(string name, Tensor bias) : base(name)
        {
            this.bias = new Parameter(bias.detach().clone(), requires_grad: false);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) =>
            x.add(bias.reshape([bias.shape[0], .. Enumerable.Repeat(1L, (int)x.dim() - 2)]));
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
