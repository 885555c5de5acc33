using DepthPrune.Data;
using DepthPrune.Entropy;
using DepthPrune.Methods;
using DepthPrune.Models;
using DepthPrune.Pruning;
using DepthPrune.Runtime;
using DepthPrune.Tests.Training;
using DepthPrune.Training;
using static TorchSharp.torch;

namespace DepthPrune.Tests.Methods;

/// <summary>The pruning rules on entropies measured by the real probe, checked against what the
/// spec says each rule must do (independent of how the code computes it).</summary>
public class PruningRuleTests
{
    static ZooModel Mlp()
    {
        Seeding.Seed(4);
        return ModelZoo.Create("mlp", new ModelOptions(Classes: 4, InChannels: 1, Width: 0.0625, InputSize: 8));
    }

    static MethodContext Context(ZooModel model, PruningMasks masks, IReadOnlyList<LayerEntropy> entropies, double zeta, int seed = 1) => new()
    {
        Model = model, Masks = masks, Entropies = entropies, Iteration = 1, Random = new Random(seed),
        Options = new MethodOptions { Finetune = new TrainOptions(), PruneRatio = zeta },
    };

    static float[] Abs(Tensor t) => t.detach().abs().flatten().data<float>().ToArray();

    /// <summary>fc1's neurons 0..5 never fire on any image: their weights are 0 and their bias -5.</summary>
    static void KillNeurons(ZooModel model, int count)
    {
        using var noGrad = no_grad();
        var fc1 = (TorchSharp.Modules.Linear)model.Module("fc1");
        fc1.weight![TensorIndex.Slice(0, count)].zero_();
        fc1.bias![TensorIndex.Slice(0, count)].fill_(-5f);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Nepenthe_removes_the_neurons_the_probe_finds_always_off_and_egp_does_not(bool nepenthe)
    {
        using var data = TestData.Quadrants(train: 96, size: 8);
        using var model = Mlp();
        KillNeurons(model, 6);
        var entropies = EntropyProbe.Measure(model, data.ProbeLoader(32, Compute.Cpu));
        var relu1 = entropies.Single(e => e.Name == "relu1");
        Assert.Equal(6, relu1.AlwaysOff);   // measured, not assumed
        using var masks = new PruningMasks();
        new EntropyGuidedPruning(nepenthe).Before(Context(model, masks, entropies, zeta: 0.2));

        var alive = model.Slots["relu1"].Alive;
        var rows = masks.For("fc1")!.any(1).data<bool>().ToArray();   // does a neuron keep any input weight?
        if (nepenthe)
        {
            Assert.Equal(Enumerable.Range(0, 32).Select(i => i < 6 ? 0f : 1f), alive!);
            Assert.All(rows.Take(6), kept => Assert.False(kept));
        }
        else
        {
            Assert.Null(alive);
            Assert.Contains(rows.Take(6), kept => kept);   // EGP prunes by magnitude only; zero rows are pruned first, not necessarily all
        }
    }

    [Fact]
    public void Each_layer_loses_its_smallest_weights_and_the_amounts_follow_the_entropy_weighted_budget()
    {
        using var data = TestData.Quadrants(train: 96, size: 8);
        using var model = Mlp();
        var entropies = EntropyProbe.Measure(model, data.ProbeLoader(32, Compute.Cpu));
        var before = new[] { "fc1", "fc2", "fc3" }.ToDictionary(n => n, n => Abs(model.Weight(new WeightNode(n))));
        using var masks = new PruningMasks();
        new EntropyGuidedPruning(nepenthe: false).Before(Context(model, masks, entropies, zeta: 0.5));

        // Independent of the code: I_l = H_l * mean|w_l|, softmax over (sum I)/I_l with caps, zeta of all weights.
        var layers = new[] { ("fc1", "relu1"), ("fc2", "relu2"), ("fc3", "relu3") };
        var importance = layers.Select(l => entropies.Single(e => e.Name == l.Item2).Entropy * before[l.Item1].Average()).ToArray();
        var counts = layers.Select(l => (double)before[l.Item1].Length).ToArray();
        double budget = 0.5 * counts.Sum();
        var expected = new double[3];
        var open = new List<int> { 0, 1, 2 };
        while (true)
        {
            double total = open.Sum(i => importance[i]);
            var logits = open.Select(i => total / importance[i]).ToArray();
            double max = logits.Max();
            var e = logits.Select(x => Math.Exp(x - max)).ToArray();
            var want = open.Select((i, j) => budget * e[j] / e.Sum()).ToArray();
            int capped = open.Select((i, j) => (i, j)).Where(p => want[p.j] > counts[p.i]).Select(p => p.i).DefaultIfEmpty(-1).First();
            if (capped < 0) { foreach (var (i, j) in open.Select((i, j) => (i, j))) expected[i] = want[j]; break; }
            expected[capped] = counts[capped];
            budget -= counts[capped];
            open.Remove(capped);
        }
        for (int k = 0; k < 3; k++)
        {
            string name = layers[k].Item1;
            long pruned = before[name].Length - masks.Remaining(name);
            Assert.InRange(pruned, Math.Floor(expected[k]) - 1, Math.Ceiling(expected[k]) + 1);
            var keep = masks.For(name)!.flatten().data<bool>().ToArray();
            float largestPruned = before[name].Where((_, i) => !keep[i]).DefaultIfEmpty(0).Max();
            float smallestKept = before[name].Where((_, i) => keep[i]).DefaultIfEmpty(float.MaxValue).Min();
            Assert.True(largestPruned <= smallestKept, $"{name}: pruned |w| {largestPruned} > kept {smallestKept}");
        }
    }

    [Fact]
    public void Imp_prunes_one_global_magnitude_threshold_across_layers()
    {
        using var model = Mlp();
        using (no_grad()) ((TorchSharp.Modules.Linear)model.Module("fc2")).weight!.mul_(0.01f);   // fc2's weights are all small
        var names = new[] { "fc1", "fc2", "fc3" };
        var before = names.ToDictionary(n => n, n => Abs(model.Weight(new WeightNode(n))));
        using var masks = new PruningMasks();
        var flat = model.Structure.Activations.Select(a => new LayerEntropy(a, 1, 0.5, 0, 0, 1, [0.5], 0.5, 0.5, 0.5)).ToList();
        new IterativeMagnitudePruning().Before(Context(model, masks, flat, zeta: 0.3));

        long total = before.Values.Sum(v => v.Length), pruned = names.Sum(n => before[n].Length - masks.Remaining(n));
        Assert.InRange(pruned, (long)(0.3 * total) - 1, (long)(0.3 * total) + 1);
        var keep = names.ToDictionary(n => n, n => masks.For(n)!.flatten().data<bool>().ToArray());
        float largestPruned = names.SelectMany(n => before[n].Where((_, i) => !keep[n][i])).Max();
        float smallestKept = names.SelectMany(n => before[n].Where((_, i) => keep[n][i])).Min();
        Assert.True(largestPruned <= smallestKept);
        Assert.Equal(0, masks.Remaining("fc2"));   // one threshold: the small layer goes first, whole
    }

    [Fact]
    public void The_seed_of_a_run_chooses_what_random_removal_takes()
    {
        using var data = TestData.Quadrants(train: 64, size: 8);
        string FirstRemoved(int seed)
        {
            using var dir = new TempDir();
            var setup = new MethodRunSetup
            {
                OutDir = dir.Path, Data = data, DataOptions = new DataOptions("quadrants"), Compute = Compute.Cpu,
                CreateModel = () => { Seeding.Seed(2); return ModelZoo.Create("mlp", new ModelOptions(Classes: 4, InChannels: 1, Width: 0.0625, InputSize: 8)); },
                Pretrain = new TrainOptions { Epochs = 0 },
                Options = new MethodOptions { Finetune = new TrainOptions { Epochs = 0 }, MaxIterations = 2, Tolerance = 100, Seed = seed },
            };
            var run = MethodRun.Run(new RandomRemoval(), setup);
            return string.Join(",", run.Iterations.SelectMany(i => i.NewlyRemoved));
        }
        var orders = Enumerable.Range(0, 6).Select(FirstRemoved).ToList();
        Assert.Equal(orders[3], FirstRemoved(3));            // same seed, same choice
        Assert.True(orders.Distinct().Count() > 1, string.Join(" | ", orders));   // the seed reaches the choice
    }
}
