using DepthPrune.Methods;

namespace DepthPrune.Tests.Methods;

/// <summary>The paired tolerance rule against hand-worked values, and its confidence statement
/// against simulated validation draws of a classifier whose true drop is known exactly.</summary>
public class ToleranceRuleTests
{
    /// <summary>10 images: the model gains 1 and loses 3 against dense (dense right on 8, model on 6).
    /// By hand: difference 60 - 80 = -20 points; adjusted n = 12, b = 1.5/12 = 0.125, c = 3.5/12;
    /// variance (b + c - (b - c)^2)/12 = (0.41667 - 0.027778)/12 = 0.032407; SE = 18.002 points.</summary>
    [Fact]
    public void A_hand_worked_paired_difference()
    {
        bool[] dense = [true, true, true, true, true, true, true, true, false, false];
        bool[] model = [true, true, true, true, true, false, false, false, true, false];
        var d = new ToleranceRule(Tolerance: 1, Confidence: 0.95).Compare(model, dense);
        Assert.Equal(-20, d.Difference, 9);
        Assert.Equal(100 * Math.Sqrt((0.125 + 3.5 / 12 - Math.Pow(0.125 - 3.5 / 12, 2)) / 12), d.StandardError, 9);
        Assert.Equal(18.0021, d.StandardError, 3);
        Assert.Equal(-20 - 1.6448536 * d.StandardError, d.Lower, 4);
        Assert.Equal(-20 + 1.6448536 * d.StandardError, d.Upper, 4);
    }

    [Fact]
    public void Confidence_one_half_is_the_point_estimate()
    {
        var rule = new ToleranceRule(Tolerance: 1, Confidence: 0.5);
        bool[] dense = [.. Enumerable.Repeat(true, 90), .. Enumerable.Repeat(false, 10)];
        bool[] model = [.. Enumerable.Repeat(true, 89), .. Enumerable.Repeat(false, 11)];
        var d = rule.Compare(model, dense);
        Assert.Equal(-1, d.Difference, 9);
        Assert.Equal(d.Difference, d.Lower);
        Assert.True(rule.Within(d));
        Assert.False(rule.Within(d, fraction: 0.9));
    }

    [Fact]
    public void Unpaired_or_empty_hits_are_refused()
    {
        var rule = new ToleranceRule(1, 0.95);
        Assert.Throws<ArgumentException>(() => rule.Compare([true], [true, false]));
        Assert.Throws<ArgumentException>(() => rule.Compare([], []));
    }

    /// <summary>A synthetic classifier: on each image the dense model is right with probability 0.92;
    /// the model gains an image dense gets wrong with probability 1.5% and loses one dense gets right
    /// with probability 1.5% + drop, so its true top-1 is exactly `drop` points below dense. Over
    /// many validation draws of 20,000 images the rule (tolerance 1, 95%) accepts a true drop of 0.5
    /// almost always, refuses 1.5 always, and at exactly the tolerance accepts about 5% of draws:
    /// a refusal there has the stated confidence, no more and no less.</summary>
    [Theory]
    [InlineData(0.5, 0.95, 1.0)]
    [InlineData(1.0, 0.03, 0.07)]
    [InlineData(1.5, 0.0, 0.05)]
    public void Over_simulated_validation_draws_the_rule_keeps_its_confidence(double drop, double minAccepted, double maxAccepted)
    {
        const int draws = 3000, images = 20000;
        var rule = new ToleranceRule(Tolerance: 1, Confidence: 0.95);
        var random = new Random(7);
        var dense = new bool[images];
        var model = new bool[images];
        int accepted = 0;
        double gain = 0.015, loss = gain + drop / 100;
        for (int draw = 0; draw < draws; draw++)
        {
            for (int i = 0; i < images; i++)
            {
                double u = random.NextDouble();
                // Joint outcomes: (dense right, model right) and the two discordant cells; P(dense right) = 0.92.
                dense[i] = u < 0.92;
                model[i] = dense[i] ? u >= loss : u >= 1 - gain;
            }
            if (rule.Within(rule.Compare(model, dense))) accepted++;
        }
        double rate = (double)accepted / draws;
        Assert.InRange(rate, minAccepted, maxAccepted);
    }
}
