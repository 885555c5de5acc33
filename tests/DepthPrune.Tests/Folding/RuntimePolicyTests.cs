using DepthPrune.Export;
using DepthPrune.Folding;
using static TorchSharp.torch;

namespace DepthPrune.Tests.Folding;

/// <summary>A layer's cost as MACs plus a fixed charge per output position: a deterministic
/// stand-in for ONNX Runtime's time (every layer costs a pass over its output), so that folds under
/// the onnxruntime policy can be checked exactly.</summary>
public sealed class DispatchCost(double perPosition) : ILayerCost
{
    public double Of(LayerShape layer) => layer.Macs + perPosition * layer.Positions;
}

/// <summary>The onnxruntime fold policy: its grouping of a chain against every grouping tried
/// (brute force, costs taken on the layers really merged), and the layer timer against work that
/// differs by orders of magnitude.</summary>
public class RuntimePolicyTests
{
    static AffineLayer Conv(string name, long outC, long inC, long kernel, long padding, long groups = 1, long size = 8) =>
        new(name, randn(outC, inC / groups, kernel, kernel), randn(outC), new ConvGeometry([kernel, kernel], [1, 1], [padding, padding], groups), exact: true)
        { InputShape = [inC, size, size] };

    /// <summary>MobileNetV2's block with its ReLU6s removed, then a 3x3 conv: 1x1 expand, 3x3 depthwise, 1x1 project, 3x3.</summary>
    static List<AffineLayer> Chain() =>
        [Conv("expand", 24, 4, 1, 0), Conv("depthwise", 24, 24, 3, 1, groups: 24), Conv("project", 6, 24, 1, 0), Conv("conv", 6, 6, 3, 1)];

    static List<FoldStage> Stages(List<AffineLayer> chain) => chain.Select(l => (FoldStage)new AffineStage(l)).ToList();

    /// <summary>The least total cost over every way to cut the chain into consecutive groups, each
    /// group merged for real; a group with more than 4x its parts' MACs is not a candidate (the
    /// policy's search bound).</summary>
    static (double Cost, int Layers) BruteForce(List<AffineLayer> chain, ILayerCost cost)
    {
        int n = chain.Count;
        var best = (Cost: double.MaxValue, Layers: 0);
        for (int cuts = 0; cuts < 1 << (n - 1); cuts++)
        {
            double total = 0;
            int layers = 0, start = 0;
            bool allowed = true;
            for (int i = 0; i < n; i++)
            {
                if (i < n - 1 && (cuts & (1 << i)) == 0) continue;
                var merged = chain[start];
                for (int k = start + 1; k <= i; k++) merged = ChainMerge.Merge(merged, chain[k], borderBias: false);
                allowed &= i == start || merged.Macs <= 4 * chain.Skip(start).Take(i - start + 1).Sum(l => l.Macs);
                total += cost.Of(LayerShape.Of(merged));
                layers++;
                start = i + 1;
            }
            if (allowed && (total < best.Cost || (total == best.Cost && layers < best.Layers))) best = (total, layers);
        }
        return best;
    }

    [Theory]
    [InlineData(0)]        // MACs alone: the macs policy's grouping
    [InlineData(200)]      // a pass over the output costs as much as 200 MACs per position
    [InlineData(100000)]   // dispatches dominate: merge all the search allows
    public void Chain_is_grouped_as_the_cheapest_of_every_grouping(double perPosition)
    {
        manual_seed(3);
        var chain = Chain();
        var cost = new DispatchCost(perPosition);
        var (stages, _) = Folder.Fold(Stages(chain), FoldPolicy.OnnxRuntime, cost);
        var layers = stages.Cast<AffineStage>().Select(s => s.Layer).ToList();
        var (bestCost, bestLayers) = BruteForce(chain, cost);
        Assert.Equal(bestCost, layers.Sum(l => cost.Of(LayerShape.Of(l))), 6);
        Assert.Equal(bestLayers, layers.Count);
        if (perPosition == 0)
        {
            var (byMacs, _) = Folder.Fold(Stages(chain), FoldPolicy.Macs);
            Assert.Equal(byMacs.Count, layers.Count);
        }
    }

    [Fact]
    public void Dispatch_heavy_costs_merge_more_than_macs_alone()
    {
        manual_seed(3);
        var chain = Chain();
        var (heavy, _) = Folder.Fold(Stages(chain), FoldPolicy.OnnxRuntime, new DispatchCost(100000));
        var (macs, _) = Folder.Fold(Stages(chain), FoldPolicy.OnnxRuntime, new DispatchCost(0));
        Assert.True(heavy.Count < macs.Count, $"{heavy.Count} layers with dispatches dominating, {macs.Count} on MACs alone");
    }

    [Fact]
    public void Policy_without_a_layer_cost_is_refused()
    {
        var chain = Stages(Chain());
        var error = Assert.Throws<ArgumentException>(() => Folder.Fold(chain, FoldPolicy.OnnxRuntime));
        Assert.Contains("onnxruntime", error.Message);
    }

    [Fact]
    public void Layer_timer_sees_a_thousandfold_difference_in_work_and_times_each_shape_once()
    {
        using var times = new OnnxLayerTimes(1);
        var tiny = new LayerShape([4, 4, 4], 4, 4, new ConvGeometry([1, 1], [1, 1], [0, 0], 1));           // 256 MACs
        var large = new LayerShape([64, 32, 32], 64, 64, new ConvGeometry([3, 3], [1, 1], [1, 1], 1));      // 37.7M MACs
        var linear = new LayerShape([64, 2, 2], 256, 10, null);                                            // a flattened map
        var tokens = new LayerShape([16, 32], 32, 32, null);                                               // per token
        double small = times.Of(tiny), big = times.Of(large);
        Assert.True(big > 10 * small + 100, $"{big:F1} us for 37.7M MACs, {small:F1} us for 256");
        Assert.True(times.Of(linear) >= 0 && times.Of(tokens) >= 0);
        Assert.Equal(small, times.Of(tiny));
        Assert.Equal(4, times.Timed);
    }
}
