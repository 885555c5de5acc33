using DepthPrune.Entropy;
using DepthPrune.Methods;
using DepthPrune.Models;
using DepthPrune.Pruning;
using DepthPrune.Runtime;
using DepthPrune.Tests.Training;
using DepthPrune.Training;
using static TorchSharp.torch;

namespace DepthPrune.Tests.Methods;

public class MethodStepTests
{
    static ZooModel Mlp()
    {
        Seeding.Seed(4);
        return ModelZoo.Create("mlp", new ModelOptions(Classes: 4, InChannels: 1, Width: 0.0625, InputSize: 8));
    }

    /// <summary>Entropies as a probe would report them: H given, ON fractions to match.</summary>
    static List<LayerEntropy> Fake(ZooModel model, params double[] entropies) => model.Structure.Activations.Select((name, i) =>
    {
        int n = (int)model.Slots[name].Channels;
        double[] p = entropies[i] == 0 ? Enumerable.Range(0, n).Select(j => j % 2 == 0 ? 1.0 : 0.0).ToArray() : Enumerable.Repeat(0.5, n).ToArray();
        int on = p.Count(x => x == 1), off = p.Count(x => x == 0);
        return new LayerEntropy(name, n, entropies[i], on, off, 100, p, entropies[i], entropies[i], entropies[i]);
    }).ToList();

    static MethodContext Context(ZooModel model, PruningMasks masks, List<LayerEntropy> entropies, double zeta = 0.5) => new()
    {
        Model = model, Masks = masks, Entropies = entropies, Iteration = 1, Random = new Random(1),
        Options = new MethodOptions { Finetune = new TrainOptions(), PruneRatio = zeta },
    };

    [Fact]
    public void Easier_removes_exactly_the_argmin_layer()
    {
        using var model = Mlp();
        using var masks = new PruningMasks();
        var removed = new Easier().Before(Context(model, masks, Fake(model, 0.5, 0.2, 0.7)));
        Assert.Equal(["relu2"], removed);
        Assert.Equal(SlotMode.Identity, model.Slots["relu2"].Mode);
        Assert.Equal(SlotMode.Nonlinear, model.Slots["relu1"].Mode);
        Assert.Equal(SlotMode.Nonlinear, model.Slots["relu3"].Mode);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Entropy_guided_pruning_never_prunes_a_zero_entropy_layer(bool nepenthe)
    {
        using var model = Mlp();
        using var masks = new PruningMasks();
        var removed = new EntropyGuidedPruning(nepenthe).Before(Context(model, masks, Fake(model, 0.4, 0.0, 0.9)));
        Assert.Equal(["relu2"], removed);
        Assert.Equal(SlotMode.ChannelMask, model.Slots["relu2"].Mode);
        Assert.Null(masks.For("fc2"));                      // the H = 0 layer's weights are untouched
        Assert.True(masks.Remaining("fc1") < model.Weight(new WeightNode("fc1")).numel());
        Assert.True(masks.Remaining("fc3") < model.Weight(new WeightNode("fc3")).numel());
        Assert.Null(masks.For("fc4"));                      // the classifier is never pruned
        // The lower-importance layer (fc1: H 0.4 vs 0.9 at similar |w|) takes the larger share.
        long prunedFc1 = model.Weight(new WeightNode("fc1")).numel() - masks.Remaining("fc1");
        long prunedFc3 = model.Weight(new WeightNode("fc3")).numel() - masks.Remaining("fc3");
        Assert.True(prunedFc1 > prunedFc3);
    }

    [Fact]
    public void Masked_weights_stay_exactly_zero_through_fine_tuning()
    {
        using var data = TestData.Quadrants(train: 128, size: 8);
        using var model = Mlp();
        using var masks = new PruningMasks();
        new EntropyGuidedPruning(nepenthe: true).Before(Context(model, masks, Fake(model, 0.4, 0.6, 0.9), zeta: 0.6));
        Trainer.Fit(model, data, new TrainOptions { Epochs = 2, BatchSize = 32, LearningRate = 0.05 }, Compute.Cpu, new TrainHooks { Masks = masks });
        foreach (var (layer, mask) in masks.ByLayer)
        {
            using var pruned = model.Weight(new WeightNode(layer)).masked_select(mask.logical_not());
            Assert.True(pruned.numel() > 0);
            Assert.Equal(0, pruned.abs().max().item<float>());
        }
    }

    [Fact]
    public void Linearizing_a_zero_entropy_layer_leaves_outputs_unchanged_on_the_probed_data()
    {
        using var data = TestData.Quadrants(train: 96, size: 8);
        using var model = Mlp();
        // Make relu2 constant: fc2 ignores its input; its bias is +1 or -1 per neuron (always ON or always OFF).
        using (no_grad())
        {
            var fc2 = (TorchSharp.Modules.Linear)model.Module("fc2");
            fc2.weight!.zero_();
            fc2.bias!.copy_(tensor(Enumerable.Range(0, (int)fc2.bias.shape[0]).Select(i => i % 3 == 0 ? -1f : 1f).ToArray()));
        }
        var loader = data.ProbeLoader(32, Compute.Cpu);
        var entropies = EntropyProbe.Measure(model, loader);
        var relu2 = entropies.Single(e => e.Name == "relu2");
        Assert.True(relu2.IsZero);
        Assert.True(relu2.AlwaysOff > 0 && relu2.AlwaysOn > 0);

        model.Net.eval();
        var before = loader.Epoch(0).Select(b => { using (b) return model.Net.forward(b.Inputs).detach(); }).ToList();
        var linearized = Linearize.ZeroEntropyLayers(model, entropies);
        Assert.Equal(["relu2", "relu3"], linearized);   // relu3 sees only relu2's constant output, so it is constant too
        Assert.Equal(SlotMode.ChannelMask, model.Slots["relu2"].Mode);
        var after = loader.Epoch(0).Select(b => { using (b) return model.Net.forward(b.Inputs).detach(); }).ToList();
        for (int i = 0; i < before.Count; i++) Assert.True(before[i].equal(after[i]).all().item<bool>());
    }

    [Fact]
    public void Random_removal_is_seeded()
    {
        using var a = Mlp();
        using var b = Mlp();
        using var masks = new PruningMasks();
        var first = new RandomRemoval().Before(Context(a, masks, Fake(a, 0.5, 0.5, 0.5)));
        var second = new RandomRemoval().Before(Context(b, masks, Fake(b, 0.5, 0.5, 0.5)));
        Assert.Equal(first, second);
    }
}

public class DeadBranchTests
{
    [Fact]
    public void A_fully_pruned_block_end_kills_the_rest_of_its_main_path_without_changing_outputs()
    {
        Seeding.Seed(3);
        using var model = ModelZoo.Create("resnet18-cifar", new ModelOptions(Classes: 10, Width: 0.125, InputSize: 16));
        using var masks = new PruningMasks();
        var conv2 = model.Structure.WeightLayers.Single(l => l.Module == "layer1.0.conv2");
        var end = masks.Ensure(model, conv2);
        masks.Set(conv2.Module, zeros_like(end).DetachFromDisposeScope());
        masks.ApplyToWeights(model);
        model.Net.eval();
        using var x = randn(4, 3, 16, 16);
        using var before = model.Net.forward(x);

        var pruned = DeadBranches.Prune(model, masks);

        Assert.Equal(["layer1.0.conv1"], pruned);
        Assert.Equal(0, masks.Remaining("layer1.0.conv1"));
        using var after = model.Net.forward(x);
        Assert.True(before.allclose(after, rtol: 0, atol: 1e-6));
    }
}
