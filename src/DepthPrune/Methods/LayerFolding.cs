using DepthPrune.Models;
using static TorchSharp.torch;

namespace DepthPrune.Methods;

/// <summary>Layer Folding (Dror et al. 2021) as a baseline: every remaining ReLU becomes a PReLU
/// with a learnable slope starting at 0 (= ReLU); fine-tuning adds lambda * sum_l (1 - a_l)^2;
/// after fine-tuning the PReLU whose slope is closest to 1 is set to Identity.</summary>
public sealed class LayerFolding : DepthMethod
{
    public override string Name => "layerfold";

    public override IReadOnlyList<string>? Before(MethodContext c)
    {
        var remaining = Linearize.Remaining(c.Model).ToList();
        if (remaining.Count == 0) return null;
        foreach (string name in remaining)
        {
            var slot = c.Model.Slots[name];
            if (slot.Mode != SlotMode.PReLU) slot.SetPReLU(0f, c.Model.Net.parameters().First().device);
        }
        return [];
    }

    public override IReadOnlyList<string> After(MethodContext c)
    {
        var prelus = c.Model.Slots.Where(s => s.Value.Mode == SlotMode.PReLU).ToList();
        if (prelus.Count == 0) return [];
        var most = prelus.OrderBy(s => Math.Abs(1 - s.Value.Slope!.item<float>())).First();
        most.Value.SetIdentity();
        return [most.Key];
    }

    public override Func<Tensor>? ExtraLoss(ZooModel model, MethodOptions options) => () =>
    {
        Tensor total = zeros(1, device: model.Net.parameters().First().device);
        foreach (var slot in model.Slots.Values.Where(s => s.Mode == SlotMode.PReLU))
            total = total.add(slot.Slope!.neg().add(1).square().sum());
        return total.mul(options.FoldLambda).squeeze();
    };
}
