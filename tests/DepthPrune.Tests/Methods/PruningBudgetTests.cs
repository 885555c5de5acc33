using DepthPrune.Pruning;

namespace DepthPrune.Tests.Methods;

public class PruningBudgetTests
{
    [Fact]
    public void Budget_caps_a_layer_and_redistributes_the_excess()
    {
        // Hand-worked: zeta 0.5 of 1200 remaining = 600.
        // Pool {A,B,C}: sum I = 7, logits 7, 3.5, 1.75 -> shares .9658, .0292, .0051 -> A wants 579 > 100: capped at 100.
        // Pool {B,C}, 500 left: logits 3, 1.5 -> shares .8176, .1824 -> B wants 409 > 100: capped at 100.
        // Pool {C}, 400 left: C gets 400 <= 1000.
        var amounts = PruningBudget.Allocate(
            [new("A", 1, 100), new("B", 2, 100), new("C", 4, 1000)], zeta: 0.5);
        Assert.Equal(100, amounts["A"]);
        Assert.Equal(100, amounts["B"]);
        Assert.Equal(400, amounts["C"]);
    }

    [Fact]
    public void Shares_are_the_softmax_of_total_importance_over_each_importance()
    {
        double[] shares = PruningBudget.Shares([new("A", 1, 10), new("B", 3, 10)]);
        // logits 4 and 4/3: share A = 1 / (1 + e^(-8/3)) = 0.935030
        Assert.Equal(0.935030, shares[0], 5);
        Assert.Equal(1 - 0.935030, shares[1], 5);
    }

    [Fact]
    public void Without_caps_the_budget_follows_the_shares()
    {
        var amounts = PruningBudget.Allocate([new("A", 1, 1000), new("B", 1, 1000)], zeta: 0.5);
        Assert.Equal(500, amounts["A"]);
        Assert.Equal(500, amounts["B"]);
    }

    [Fact]
    public void Weights_already_pruned_this_iteration_count_against_the_budget()
    {
        // 2,000 left in the pool, 1,000 gone with a branch: B = 0.5 x 3,000 - 1,000 = 500, shared evenly.
        var amounts = PruningBudget.Allocate([new("A", 1, 1000), new("B", 1, 1000)], zeta: 0.5, spent: 1000);
        Assert.Equal(250, amounts["A"]);
        Assert.Equal(250, amounts["B"]);
        // The branch alone used more than zeta of everything: nothing else is pruned.
        Assert.All(PruningBudget.Allocate([new("A", 1, 1000), new("B", 1, 1000)], zeta: 0.1, spent: 1000).Values, v => Assert.Equal(0, v));
    }

    [Fact]
    public void Budget_never_exceeds_what_a_layer_has_and_rejects_bad_ratios()
    {
        var amounts = PruningBudget.Allocate([new("A", 0.001, 5), new("B", 10, 5)], zeta: 0.9);
        Assert.True(amounts["A"] <= 5 && amounts["B"] <= 5);
        Assert.Equal(9, amounts["A"] + amounts["B"]);
        Assert.Contains("--prune-ratio", Assert.Throws<DepthPrune.Runtime.UsageException>(() => PruningBudget.Allocate([], 1.0)).Message);
    }

    [Fact]
    public void A_temperature_below_one_sharpens_the_shares_as_the_formula_says()
    {
        // I = (1, 3): logits (4/1, 4/3) divided by tau = 0.5 -> (8, 8/3); softmax by hand.
        double e = Math.Exp(8 - 8.0 / 3);
        double[] expected = [e / (e + 1), 1 / (e + 1)];
        double[] shares = PruningBudget.Shares([new("A", 1, 10), new("B", 3, 10)], temperature: 0.5);
        Assert.Equal(expected[0], shares[0], 12);
        Assert.Equal(expected[1], shares[1], 12);
        Assert.True(shares[0] > PruningBudget.Shares([new("A", 1, 10), new("B", 3, 10)])[0]);
    }
}
