using DepthPrune.Entropy;
using DepthPrune.Models;

namespace DepthPrune.Methods;

/// <summary>Turns non-linearities into linear maps.</summary>
public static class Linearize
{
    /// <summary>Every still non-linear slot whose layer has H_l = 0 becomes its exact 0/1
    /// channel mask (Identity when all neurons are always ON): no output changes on the probed data.</summary>
    public static List<string> ZeroEntropyLayers(ZooModel model, IReadOnlyList<LayerEntropy> entropies)
    {
        var done = new List<string>();
        foreach (var layer in entropies)
        {
            var slot = model.Slots[layer.Name];
            if (slot.IsLinear || !layer.IsZero) continue;
            float[] mask = layer.LinearMask();
            if (slot.Alive is { } alive) mask = mask.Zip(alive, (m, a) => m * a).ToArray();
            slot.SetChannelMask(mask);
            done.Add(layer.Name);
        }
        return done;
    }

    public static IEnumerable<string> Remaining(ZooModel model) =>
        model.Structure.Activations.Where(n => !model.Slots[n].IsLinear);

    public static int RemovedCount(ZooModel model) => model.Slots.Values.Count(s => s.IsLinear);

    /// <summary>What measure gives with these non-linear activations replaced by the identity;
    /// they are non-linear again (with their removed neurons) afterwards.</summary>
    public static T WithIdentity<T>(ZooModel model, IReadOnlyList<string> slots, Func<T> measure)
    {
        var saved = slots.Select(s => (Slot: model.Slots[s], model.Slots[s].Alive)).ToList();
        foreach (var (slot, _) in saved) slot.SetIdentity();
        try { return measure(); }
        finally
        {
            foreach (var (slot, alive) in saved)
            {
                slot.SetNonlinear();
                slot.SetAlive(alive);
            }
        }
    }
}
