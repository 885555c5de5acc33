using DepthPrune.Data;
using DepthPrune.Models;
using DepthPrune.Training;
using static TorchSharp.torch;

namespace DepthPrune.Methods;

/// <summary>What taking a part of the network away costs and gains, measured rather than
/// guessed, on a fixed sample of training images: with the modules' masked tensors (weights;
/// BatchNorm scale and shift) at zero, the mean cross-entropy and the activations that are then
/// constant on every image (which the next probe linearizes). Restored afterwards.</summary>
public static class RemovalDamage
{
    public sealed record Effect(double Loss, int Linearized);

    public static Effect Without(ZooModel model, IEnumerable<string> modules, BatchLoader sample)
    {
        using var noGrad = no_grad();
        var saved = modules.SelectMany(model.Masked).Select(t => (Tensor: t, Copy: t.clone())).ToList();
        try
        {
            foreach (var (tensor, _) in saved) tensor.zero_();
            int linearized = Entropy.EntropyProbe.Measure(model, sample).Count(e => !model.Slots[e.Name].IsLinear && e.IsZero);
            return new Effect(Evaluation.Run(model, sample).Loss, linearized);
        }
        finally
        {
            foreach (var (tensor, copy) in saved)
            {
                tensor.copy_(copy);
                copy.Dispose();
            }
        }
    }

    /// <summary>A fixed, seeded sample of n training images (the whole split when n is larger).</summary>
    public static ImageSet Sample(ImageSet train, int n, int seed)
    {
        var order = Runtime.Seeding.Permutation(train.Count, seed);
        return train.Subset(order[..Math.Min(n, order.Length)], $"damage sample of {n}");
    }
}
