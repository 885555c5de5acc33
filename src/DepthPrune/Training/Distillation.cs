using TorchSharp;
using static TorchSharp.torch;

namespace DepthPrune.Training;

/// <summary>Knowledge distillation (Hinton et al., 2015) from a frozen teacher during fine-tuning:
/// loss = (1 - alpha) CE(student, y) + alpha T^2 KL(softmax(teacher / T) || softmax(student / T)),
/// the KL summed over classes and averaged over the batch; T^2 keeps the soft term's gradients on
/// the scale of the hard term's.</summary>
public sealed record Distillation(nn.Module<Tensor, Tensor> Teacher, double Temperature, double Alpha)
{
    public Tensor Loss(Tensor student, Tensor inputs, Tensor targets, double labelSmoothing)
    {
        using var teacher = TeacherLogits(inputs);
        return Loss(student, teacher, targets, Temperature, Alpha, labelSmoothing);
    }

    Tensor TeacherLogits(Tensor inputs)
    {
        using var noGrad = no_grad();
        Teacher.eval();
        return Teacher.call(inputs);
    }

    public static Tensor Loss(Tensor student, Tensor teacher, Tensor targets, double temperature, double alpha, double labelSmoothing = 0)
    {
        using var scope = NewDisposeScope();
        // Scalars held by `using` until the ops have run (an implicit one can be finalized mid-call).
        using Scalar t = temperature.ToScalar(), hardWeight = (1 - alpha).ToScalar(), softWeight = (alpha * temperature * temperature).ToScalar();
        var hard = nn.functional.cross_entropy(student, targets, label_smoothing: labelSmoothing);
        var logStudent = nn.functional.log_softmax(student.div(t), 1);
        var logTeacher = nn.functional.log_softmax(teacher.div(t), 1);
        var soft = (logTeacher.exp() * (logTeacher - logStudent)).sum(1).mean();
        return (hard.mul(hardWeight) + soft.mul(softWeight)).MoveToOuterDisposeScope();
    }
}
