using DepthPrune.Data;
using DepthPrune.Models;
using static TorchSharp.torch;

namespace DepthPrune.Entropy;

/// <summary>Measures H_l of every activation slot in one eval-mode pass over a data set
/// (BatchNorm running statistics, no augmentation: pass a loader with eval transforms).</summary>
public static class EntropyProbe
{
    public static IReadOnlyList<LayerEntropy> Measure(ZooModel model, BatchLoader loader,
        EntropyEstimator estimator = EntropyEstimator.Dataset, IProgress<(int Batch, int Batches)>? progress = null)
    {
        var counters = model.Slots.ToDictionary(s => s.Key, s => new NeuronCounter(s.Value.Channels, estimator == EntropyEstimator.BatchMean));
        bool wasTraining = model.Net.training;
        try
        {
            foreach (var (name, slot) in model.Slots) slot.Observer = counters[name];
            model.Net.eval();
            using var noGrad = no_grad();
            foreach (Batch batch in loader.Epoch(0))
            {
                using (batch)
                using (var scope = NewDisposeScope())
                    model.Net.forward(batch.Inputs);
                progress?.Report((batch.Index + 1, loader.BatchesPerEpoch));
            }
            return model.Structure.Activations.Select(name => counters[name].Result(name, estimator)).ToList();
        }
        finally
        {
            foreach (var slot in model.Slots.Values) slot.Observer = null;
            foreach (var counter in counters.Values) counter.Dispose();
            model.Net.train(wasTraining);
        }
    }
}
