using DepthPrune.Data;
using DepthPrune.Models;
using DepthPrune.Training;
using static TorchSharp.torch;

namespace DepthPrune.Methods;

/// <summary>What taking a part of the network away costs, measured rather than guessed: the mean
/// cross-entropy on a fixed sample of training images with the modules' masked tensors (weights;
/// BatchNorm scale and shift) at zero, restored afterwards.</summary>
public static class RemovalDamage
{
    public static double LossWithout(ZooModel model, IEnumerable<string> modules, BatchLoader sample)
    {
        using var noGrad = no_grad();
        var saved = modules.SelectMany(model.Masked).Select(t => (Tensor: t, Copy: t.clone())).ToList();
        try
        {
            foreach (var (tensor, _) in saved) tensor.zero_();
            return Evaluation.Run(model, sample).Loss;
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
        var order = Enumerable.Range(0, train.Count).Select(i => (long)i).ToArray();
        new Random(seed).Shuffle(order);   // not Seeding.Seed: that would reseed torch
        return train.Subset(order[..Math.Min(n, order.Length)], $"damage sample of {n}");
    }
}
