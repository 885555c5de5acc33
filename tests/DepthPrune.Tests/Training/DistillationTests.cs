using DepthPrune.Training;
using static TorchSharp.torch;

namespace DepthPrune.Tests.Training;

/// <summary>The distillation loss against the formula worked out in plain doubles.</summary>
public class DistillationTests
{
    static double[] LogSoftmax(double[] z, double t)
    {
        double max = z.Max(v => v / t);
        double log = Math.Log(z.Sum(v => Math.Exp(v / t - max))) + max;
        return z.Select(v => v / t - log).ToArray();
    }

    [Theory]
    [InlineData(2.0, 0.25)]
    [InlineData(4.0, 1.0)]
    [InlineData(1.0, 0.0)]
    public void Loss_is_weighted_cross_entropy_plus_t_squared_kl(double t, double alpha)
    {
        double[][] student = [[1, 2, 0], [0.5, -1, 2]], teacher = [[2, 0, 1], [0, 0, 3]];
        long[] targets = [1, 2];
        double hard = 0, soft = 0;
        for (int i = 0; i < 2; i++)
        {
            hard -= LogSoftmax(student[i], 1)[targets[i]] / 2;
            double[] ls = LogSoftmax(student[i], t), lt = LogSoftmax(teacher[i], t);
            soft += Enumerable.Range(0, 3).Sum(j => Math.Exp(lt[j]) * (lt[j] - ls[j])) / 2;
        }
        double expected = (1 - alpha) * hard + alpha * t * t * soft;

        using var s = tensor(student.SelectMany(r => r).Select(v => (float)v).ToArray()).reshape(2, 3);
        using var te = tensor(teacher.SelectMany(r => r).Select(v => (float)v).ToArray()).reshape(2, 3);
        using var y = tensor(targets);
        using var loss = Distillation.Loss(s, te, y, t, alpha);
        Assert.Equal(expected, loss.item<float>(), 5);
    }

    [Fact]
    public void A_student_equal_to_its_teacher_pays_only_the_hard_term()
    {
        using var logits = tensor(new float[] { 1, 2, 0, 0.5f, -1, 2 }).reshape(2, 3);
        using var y = tensor(new long[] { 1, 2 });
        using var plain = nn.functional.cross_entropy(logits, y);
        using var loss = Distillation.Loss(logits, logits, y, 3, 0.5);
        Assert.Equal(0.5 * plain.item<float>(), loss.item<float>(), 5);
    }
}
