using DepthPrune.Folding;
using DepthPrune.Entropy;
using DepthPrune.Methods;
using DepthPrune.Models;
using DepthPrune.Pruning;
using DepthPrune.Runtime;
using DepthPrune.Tests.Training;
using DepthPrune.Training;

namespace DepthPrune.Tests.Methods;

/// <summary>The latency objective: what folding saves, against MACs counted by hand, and the
/// removal it chooses against the one entropy alone would.</summary>
public class LatencyObjectiveTests
{
    static ZooModel Model(string name, int size = 8)
    {
        Seeding.Seed(5);
        return ModelZoo.Create(name, new ModelOptions(Classes: 4, InChannels: 1, Width: 0.25, InputSize: size));
    }

    [Fact]
    public void A_mobilenet_block_pays_only_once_both_its_relu6_are_gone()
    {
        using var model = Model("mobilenetv2-cifar");
        // features.3: stride 1, C -> 6C -> C at 8x8 (CIFAR strides keep the input size this far).
        var expand = model.Weight(new WeightNode("features.3.conv.0.0"));
        long c = expand.shape[1], hidden = expand.shape[0], pixels = 8 * 8;
        Assert.Equal(6 * c, hidden);
        long apart = (c * hidden + hidden * 9 + hidden * c) * pixels, merged = 9 * c * c * pixels;
        long baseline = FoldPayoff.FoldedMacs(model);
        string[] both = ["features.3.conv.0.2", "features.3.conv.1.2"];
        // Alone, neither removal lets a merge pay (a dense 3x3 over 6C channels costs more than the
        // pair it replaces): the two form one unit, worth half the block's saving per removal.
        var unit = FoldPayoff.RemovalUnits(model, both, new MacsCost(model)).Single();
        Assert.Equal(both, unit.Slots);
        Assert.Equal((apart - merged) / 2.0, unit.SavingPerRemoval);
        model.Slots["features.3.conv.0.2"].SetIdentity();
        Assert.Equal(baseline, FoldPayoff.FoldedMacs(model));                  // half a block removed: nothing folds yet
        var last = FoldPayoff.RemovalUnits(model, ["features.3.conv.1.2"], new MacsCost(model)).Single();
        Assert.Equal(apart - merged, last.SavingPerRemoval);
        Assert.Equal(SlotMode.Nonlinear, model.Slots["features.3.conv.1.2"].Mode);   // measuring left the model as it was
    }

    [Fact]
    public void Timed_in_onnx_runtime_a_removal_that_merges_nothing_saves_nothing_and_linear_blocks_save_time()
    {
        using var model = Model("mobilenetv2-cifar", size: 16);
        var cost = new RuntimeFoldCost(model);
        Assert.Equal(RuntimeFoldCost.Scale, cost.Baseline);
        // Half a block merges nothing: the same layers, so exactly the baseline (not a noisy timing).
        Assert.Equal(cost.Baseline, Linearize.WithIdentity(model, ["features.3.conv.0.2"], () => cost.Of(model)));
        // Every expanding block linear (both ReLU6 each): each block's three convs and two clips
        // become one conv; half the graph's nodes gone is faster at batch 1 by any clock, loaded or not.
        var blocks = Enumerable.Range(2, 16).SelectMany(b => new[] { $"features.{b}.conv.0.2", $"features.{b}.conv.1.2" }).ToList();
        double linear = Linearize.WithIdentity(model, blocks, () => cost.Of(model));
        Assert.InRange(linear, 1, 0.9 * cost.Baseline);
        Assert.Equal(SlotMode.Nonlinear, model.Slots["features.2.conv.0.2"].Mode);
    }

    [Fact]
    public void The_runtime_payoff_is_an_easier_latency_setting_recorded_in_the_run()
    {
        var setting = MethodSettings.Named("payoff");
        Assert.True(setting.AppliesTo("easier"));
        Assert.False(setting.AppliesTo("nepenthe"));
        var (options, error) = setting.Apply(new MethodOptions(), "flops");
        Assert.Null(options);
        Assert.Contains("expected macs or onnxruntime", error);
        var timed = new MethodOptions { Finetune = new TrainOptions(), Payoff = PayoffMeasure.OnnxRuntime };
        var refused = Assert.Throws<UsageException>(timed.Validate);
        Assert.Contains("Payoff onnxruntime: a fold's saving is measured only under Objective latency", refused.Message);
        (timed with { Objective = RemovalObjective.Latency }).Validate();
        using var model = Model("mobilenetv2-cifar");
        var dense = new IterationRecord { Iteration = 0, Top1 = 50 };
        Assert.Equal("onnxruntime", RunRecord.Start("easier", model, "synthetic", timed with { Objective = RemovalObjective.Latency }, dense, "validation").Payoff);
        Assert.Null(RunRecord.Start("easier", model, "synthetic", new MethodOptions(), dense, "validation").Payoff);
    }

    [Fact]
    public void Pruning_away_a_residual_blocks_last_layer_saves_both_its_convs_and_the_stem_saves_nothing()
    {
        using var model = Model("resnet18-cifar");
        var conv1 = model.Weight(new WeightNode("layer1.1.conv1"));
        long c = conv1.shape[0], pixels = 8 * 8;
        long baseline = FoldPayoff.FoldedMacs(model);
        Assert.Equal(2 * 9 * c * c * pixels, FoldPayoff.OfPruningAway(model, new WeightNode("layer1.1.conv2", "layer1.1.bn2"), baseline));
        Assert.Equal(0, FoldPayoff.OfPruningAway(model, new WeightNode("conv1", "bn1"), baseline));
        Assert.NotEqual(0, model.Weight(new WeightNode("layer1.1.conv2")).abs().sum().item<float>());   // restored
    }

    /// <summary>Entropy 0.9 everywhere except the given layers; measured damage when a sample is given.</summary>
    internal static MethodContext Context(ZooModel model, PruningMasks masks, RemovalObjective objective, Dictionary<string, double> low,
        DepthPrune.Data.BatchLoader? damageSample = null) => new()
    {
        Model = model, Masks = masks, Iteration = 1, Random = new Random(1), DamageSample = damageSample,
        Options = new MethodOptions { Finetune = new TrainOptions(), Objective = objective, PruneRatio = 0.1, DamageSample = damageSample?.Set.Count ?? 0 },
        Entropies = model.Structure.Activations.Select(name =>
        {
            int n = (int)model.Slots[name].Channels;
            double h = low.GetValueOrDefault(name, 0.9);
            return new LayerEntropy(name, n, h, 0, 0, 100, Enumerable.Repeat(0.5, n).ToArray(), h, h, h);
        }).ToList(),
    };

    [Theory]
    [InlineData(RemovalObjective.Entropy, "features.0.2")]
    [InlineData(RemovalObjective.Latency, "features.3.conv.1.2")]
    public void Easier_under_latency_completes_a_block_instead_of_taking_the_lowest_entropy(RemovalObjective objective, string expected)
    {
        using var model = Model("mobilenetv2-cifar");
        using var masks = new PruningMasks();
        model.Slots["features.3.conv.0.2"].SetIdentity();
        // The stem's ReLU6 has the lowest entropy, but removing it merges nothing: the stem's 3x3
        // conv and features.1's depthwise 3x3 would become a dense 5x5 conv, more MACs.
        var low = new Dictionary<string, double> { ["features.0.2"] = 0.1, ["features.3.conv.1.2"] = 0.2 };
        Assert.Equal([expected], new Easier().Before(Context(model, masks, objective, low)));
    }

    [Fact]
    public void Easier_under_latency_removes_a_whole_mobilenet_block_at_once()
    {
        using var model = Model("mobilenetv2-cifar");
        using var masks = new PruningMasks();
        var low = new Dictionary<string, double> { ["features.0.2"] = 0.1, ["features.3.conv.1.2"] = 0.2, ["features.3.conv.0.2"] = 0.3 };
        long baseline = FoldPayoff.FoldedMacs(model);
        var context = Context(model, masks, RemovalObjective.Latency, low);
        Assert.Equal(["features.3.conv.0.2", "features.3.conv.1.2"], new Easier().Before(context));
        Assert.True(model.Slots["features.3.conv.0.2"].IsLinear && model.Slots["features.3.conv.1.2"].IsLinear);
        // The reason recorded with the iteration: the block's saving, as the first test works it out by hand.
        var expand = model.Weight(new WeightNode("features.3.conv.0.0"));
        long c = expand.shape[1], saving = (c * 6 * c + 6 * c * 9 + 6 * c * c - 9 * c * c) * 8 * 8;
        Assert.StartsWith(FormattableString.Invariant($"folding then saves {saving:N0} MACs per image ({(double)saving / baseline:P1})"), context.Reason);
    }

    [Fact]
    public void Removing_mobilenets_last_relu6_saves_its_conv_to_the_wide_features_which_folds_past_the_pooling()
    {
        using var model = Model("mobilenetv2-cifar");
        using var masks = new PruningMasks();
        var context = Context(model, masks, RemovalObjective.Latency, new Dictionary<string, double> { ["features.18.2"] = 0.1 });
        Assert.Equal(["features.18.2"], new Easier().Before(context));
        // By hand: the 1x1 conv (c -> wide on H x W) and the classifier (wide -> k classes) become one c -> k layer.
        var conv = model.Weight(new WeightNode("features.18.0"));
        long c = conv.shape[1], wide = conv.shape[0], k = model.Options.Classes;
        var input = Folder.Compile(model).OfType<AffineStage>().Single(a => a.Layer.Name.StartsWith("features.18.0")).Layer.InputShape;
        long saving = c * wide * input[1] * input[2] + wide * k - c * k;
        Assert.StartsWith(FormattableString.Invariant($"folding then saves {saving:N0} MACs per image"), context.Reason);
    }

    [Theory]
    [InlineData(RemovalObjective.Entropy, "features.5")]
    [InlineData(RemovalObjective.Latency, "features.2")]
    public void Easier_under_latency_prefers_the_removal_that_lets_a_chain_merge(RemovalObjective objective, string expected)
    {
        // VGG's first conv reads one channel: merged with the second into one 5x5 conv it costs
        // 25*1*C MACs per pixel instead of 9*1*C + 9*C*C.
        using var model = Model("vgg16bn", size: 32);   // five 2x2 max pools
        using var masks = new PruningMasks();
        var low = new Dictionary<string, double> { ["features.5"] = 0.3, ["features.2"] = 0.4 };
        Assert.Equal([expected], new Easier().Before(Context(model, masks, objective, low)));
    }

    [Fact]
    public void Easier_under_latency_takes_the_lowest_entropy_when_no_removal_pays()
    {
        // A ResNet block's two 3x3 convs merged make a 5x5 that costs more: no linearization pays.
        using var model = Model("resnet18-cifar");
        using var masks = new PruningMasks();
        var low = new Dictionary<string, double> { ["layer2.0.relu1"] = 0.3, ["layer1.0.relu1"] = 0.4 };
        Assert.Equal(["layer2.0.relu1"], new Easier().Before(Context(model, masks, RemovalObjective.Latency, low)));
    }
}

public class LatencyObjectivePruningTests
{
    /// <summary>A seeded ResNet-18 whose activations all have the same entropy (the budget is shared by
    /// mean |w| alone, and no layer is capped), and NEPENTHE's step on it with these branches kept.</summary>
    static (ZooModel Model, PruningMasks Masks, IReadOnlyList<string> Removed) EqualEntropyStep(RemovalObjective objective, IReadOnlyList<string> kept)
    {
        Seeding.Seed(6);
        var model = ModelZoo.Create("resnet18-cifar", new ModelOptions(Classes: 4, InChannels: 1, Width: 0.25, InputSize: 8));
        var masks = new PruningMasks();
        var entropies = model.Structure.Activations.Select(name =>
        {
            int n = (int)model.Slots[name].Channels;
            return new LayerEntropy(name, n, 0.9, 0, 0, 100, Enumerable.Repeat(0.5, n).ToArray(), 0.9, 0.9, 0.9);
        }).ToList();
        var context = new MethodContext
        {
            Model = model, Masks = masks, Iteration = 1, Random = new Random(1), Entropies = entropies, Kept = kept,
            Options = new MethodOptions { Finetune = new TrainOptions(), PruneRatio = 0.3, Objective = objective },
        };
        return (model, masks, new EntropyGuidedPruning(nepenthe: true).Before(context)!);
    }

    /// <summary>The block whose convs were all pruned away.</summary>
    static string PrunedBlock(ZooModel model, PruningMasks masks)
    {
        var pruned = model.Structure.PruningPairs().Where(p => masks.Remaining(p.Layer.Module) == 0 && p.Layer.Module.Contains(".conv")).ToList();
        string block = string.Join(".", pruned[0].Layer.Module.Split('.').Take(2));
        Assert.Equal([block + ".conv1", block + ".conv2"], pruned.Select(p => p.Layer.Module).Order());
        return block;
    }

    [Theory]
    [InlineData(RemovalObjective.Entropy, 0)]
    [InlineData(RemovalObjective.Latency, 1)]
    public void Nepenthe_under_latency_prunes_away_the_least_important_layer_whose_block_then_folds(RemovalObjective objective, int foldedBlocks)
    {
        var (model, masks, _) = EqualEntropyStep(objective, []);
        using (model)
        using (masks)
        {
            var (stages, steps) = DepthPrune.Folding.Folder.Fold(DepthPrune.Folding.Folder.Compile(model), DepthPrune.Folding.FoldPolicy.Exact);
            Assert.Equal(foldedBlocks, steps.Count(s => s.Second == "identity" || s.First.Contains("conv2")));
            if (foldedBlocks == 0) return;
            // The block that folds is the one pruned away: its whole main path (both convs).
            Assert.Contains(PrunedBlock(model, masks), steps.Single().First);
        }
    }

    [Fact]
    public void Nepenthe_under_latency_names_the_branch_it_prunes_away_and_a_kept_branch_is_passed_over()
    {
        Assert.True(new EntropyGuidedPruning(nepenthe: true).ChoosesRemovals(new MethodOptions { Finetune = new(), Objective = RemovalObjective.Latency }));
        Assert.False(new EntropyGuidedPruning(nepenthe: true).ChoosesRemovals(new MethodOptions { Finetune = new() }));
        var (model, masks, removed) = EqualEntropyStep(RemovalObjective.Latency, []);
        string first = PrunedBlock(model, masks);
        Assert.Equal([first + ".relu1"], removed);   // the BasicBlock's inner ReLU (relu2 follows the add)
        Assert.True(model.Slots[first + ".relu1"].IsLinear);
        model.Dispose();
        masks.Dispose();
        // Its removal undone and kept (--retries): the next paying branch goes instead.
        var (again, againMasks, _) = EqualEntropyStep(RemovalObjective.Latency, removed);
        Assert.NotEqual(first, PrunedBlock(again, againMasks));
        again.Dispose();
        againMasks.Dispose();
    }

    [Fact]
    public void A_branch_removed_whole_outputs_exactly_zero_in_training_and_eval_and_stays_so_through_a_step_and_a_checkpoint()
    {
        Seeding.Seed(7);
        using var model = ModelZoo.Create("resnet18-cifar", new ModelOptions(Classes: 4, InChannels: 1, Width: 0.25, InputSize: 8));
        using var masks = new PruningMasks();
        var block = model.Structure.Walk().OfType<ResidualNode>().First();   // layer1.0: identity shortcut
        masks.RemoveBranch(model, block);
        var net = (DescribedNet)model.Net;
        var blockWithRelu = model.Structure.Root.Items.OfType<SeqNode>().First(s => s.Items[0] == block);   // the block and its relu2
        using var x = TorchSharp.torch.randn(3, 16, 8, 8);
        void BlockIsItsShortcut(string when)
        {
            foreach (bool training in new[] { true, false })
            {
                net.train(training);
                using var y = net.Run(blockWithRelu, x);
                using var expected = TorchSharp.torch.nn.functional.relu(x);
                Assert.True(y.equal(expected).all().item<bool>(), $"{when}, training={training}: the block is not relu(shortcut)");
            }
        }
        BlockIsItsShortcut("after removal");
        // A masked training step leaves the BatchNorm scale and shift at zero.
        using var optimizer = TorchSharp.torch.optim.SGD(model.Net.parameters(), 0.1, 0.9);
        model.Net.train();
        using var loss = model.Net.forward(TorchSharp.torch.randn(4, 1, 8, 8)).square().sum();
        loss.backward();
        masks.ApplyToGradients(model);
        optimizer.step();
        masks.ApplyToWeights(model);
        BlockIsItsShortcut("after a step");
        using var dir = new TempDir();
        Checkpoint.Save(dir["m.ckpt"], model, new CheckpointMeta { Model = model.Name, ModelOptions = model.Options }, masks);
        using var loaded = Checkpoint.Load(dir["m.ckpt"], Compute.Cpu);
        Assert.Equal(0, loaded.Masks!.Remaining("layer1.0.bn2"));
    }
}

/// <summary>--damage-sample: the branch taken away is the one whose removal linearizes the most
/// activations and then costs the least loss, against removing each candidate for real (masks),
/// evaluating and probing.</summary>
public class RemovalDamageTests
{
    static readonly string[] LowBlocks = ["layer1.0", "layer2.1", "layer3.0", "layer4.1"];

    static ZooModel ResNet(int seed)
    {
        Seeding.Seed(seed);
        return ModelZoo.Create("resnet18-cifar", new ModelOptions(Classes: 4, InChannels: 1, Width: 0.25, InputSize: 8));
    }

    [Fact]
    public void Nepenthe_takes_away_the_branch_that_linearizes_the_most_then_costs_the_least_loss()
    {
        using var data = TestData.Quadrants(train: 128, size: 8);
        using var model = ResNet(seed: 8);
        var sample = data.EvalLoader(data.Train, 64, Compute.Cpu);
        var start = model.Net.state_dict().ToDictionary(p => p.Key, p => p.Value.detach().clone());
        var effect = new Dictionary<string, (int Constant, double Loss)>();
        foreach (string block in LowBlocks)
        {
            using var trial = new PruningMasks();
            trial.RemoveBranch(model, model.Structure.Walk().OfType<ResidualNode>().Single(r => new Structure(r.Main).WeightLayers.Any(l => l.Module.StartsWith(block + "."))));
            int constant = DepthPrune.Entropy.EntropyProbe.Measure(model, sample).Count(e => e.AlwaysOn + e.AlwaysOff == e.Neurons);
            effect[block] = (constant, Evaluation.Run(model, sample).Loss);
            using (TorchSharp.torch.no_grad())
                foreach (var (name, tensor) in model.Net.state_dict()) tensor.copy_(start[name]);
        }
        string cheapest = effect.OrderByDescending(p => p.Value.Constant).ThenBy(p => p.Value.Loss).First().Key;

        using var masks = new PruningMasks();
        var low = LowBlocks.SelectMany((b, i) => new[] { ($"{b}.relu1", 0.1 + 0.1 * i), ($"{b}.relu2", 0.15 + 0.1 * i) }).ToDictionary(p => p.Item1, p => p.Item2);
        var context = LatencyObjectiveTests.Context(model, masks, RemovalObjective.Latency, low, sample);
        new EntropyGuidedPruning(nepenthe: true).Before(context);
        Assert.Equal(0, masks.Remaining(cheapest + ".conv1"));
        Assert.Equal(0, masks.Remaining(cheapest + ".bn2"));
        Assert.All(LowBlocks.Where(b => b != cheapest), b => Assert.NotEqual(0, masks.Remaining(b + ".bn2")));
        // The window: the 8 lowest-entropy paying layers (half of the 17 candidates) = these blocks' 8;
        // the sample is evaluated and probed for each.
        Assert.Equal(2 * 8 * 128L, context.ImagesEvaluated);
        foreach (var t in start.Values) t.Dispose();
    }

    [Fact]
    public void Measuring_a_removal_leaves_every_tensor_as_it_was_and_counts_what_goes_constant()
    {
        using var data = TestData.Quadrants(train: 64, size: 8);
        using var model = ResNet(seed: 9);
        var before = model.Net.state_dict().ToDictionary(p => p.Key, p => p.Value.detach().clone());
        var sample = data.EvalLoader(data.Train, 64, Compute.Cpu);
        double whole = Evaluation.Run(model, sample).Loss;
        var effect = RemovalDamage.Without(model, ["layer1.0.conv1", "layer1.0.bn1", "layer1.0.conv2", "layer1.0.bn2"], sample);
        Assert.NotEqual(whole, effect.Loss);
        // The block's inner ReLU sees zeros (always OFF); the ReLU after the add sees the stem's
        // non-negative output (always ON): both constant.
        Assert.True(effect.Linearized >= 2, $"{effect.Linearized} constant");
        foreach (var (name, tensor) in model.Net.state_dict())
            Assert.True(tensor.equal(before[name]).all().item<bool>(), $"{name} changed");
        Assert.Equal(whole, Evaluation.Run(model, sample).Loss);
        foreach (var t in before.Values) t.Dispose();
    }

    [Fact]
    public void Easier_takes_from_the_lowest_entropy_quarter_the_activation_whose_removal_costs_the_least_loss()
    {
        using var data = TestData.Quadrants(train: 64, size: 8);
        using var model = ResNet(seed: 10);
        var sample = data.EvalLoader(data.Train, 64, Compute.Cpu);
        // 17 activations: the quarter is 5 (at least the one taken plus two).
        string[] lowest = ["layer1.0.relu1", "layer2.0.relu2", "layer3.1.relu1", "layer4.0.relu1", "relu"];
        var loss = new Dictionary<string, double>();
        foreach (string slot in lowest)
        {
            model.Slots[slot].SetIdentity();
            loss[slot] = Evaluation.Run(model, sample).Loss;
            model.Slots[slot].SetNonlinear();
        }
        var context = LatencyObjectiveTests.Context(model, new PruningMasks(), RemovalObjective.Entropy,
            lowest.Select((name, i) => (name, 0.1 + 0.1 * i)).ToDictionary(p => p.name, p => p.Item2), sample);
        Assert.Equal([loss.MinBy(p => p.Value).Key], new Easier().Before(context));
        Assert.Equal(5 * 64L, context.ImagesEvaluated);
        Assert.Equal(1, model.Slots.Values.Count(s => s.IsLinear));   // the others were put back
        context.Masks.Dispose();
    }
}
