using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DepthPrune.Models;

/// <summary>Parameters, multiply-accumulates for one input, and depth, read from the model and
/// its structure. Dense MACs count every weight; nonzero MACs only unpruned ones.</summary>
public sealed record ModelCost(long Parameters, long NonzeroParameters, long Macs, long NonzeroMacs, int Depth, int LinearDepth)
{
    // Two images, not one: libtorch routes single-image convs to NNPACK, which logs a warning
    // per call on CPUs it does not support. MACs are reported per image.
    const int Batch = 2;

    /// <summary>Counts with one forward pass of a zero image at the model's input size
    /// (forward hooks on conv/linear layers; attention matmuls report through IExtraMacs).</summary>
    public static ModelCost Measure(ZooModel model, Device? device = null)
    {
        var (parameters, nonzero, macs, nonzeroMacs) = Count(model.Net, model.Options, device);
        return new ModelCost(parameters, nonzero, macs, nonzeroMacs, model.Structure.Depth(), model.LinearDepth());
    }

    /// <summary>Bytes of the model's state (parameters and buffers), as a checkpoint stores it.</summary>
    public static long StateBytes(ZooModel model) => model.Net.state_dict().Values.Sum(t => t.numel() * t.element_size());

    /// <summary>Disk a run keeps: a few checkpoints of the model (weights, masks, optimizer state) and its records.</summary>
    public static long RunBytes(ZooModel model, int checkpoints) => (64L << 20) + checkpoints * 3 * StateBytes(model);

    /// <summary>Parameters and MACs of any network taking the given model options' input.</summary>
    public static (long Parameters, long NonzeroParameters, long Macs, long NonzeroMacs) Count(nn.Module<Tensor, Tensor> net, ModelOptions options, Device? device = null)
    {
        long parameters = 0, nonzero = 0;
        foreach (var p in net.parameters())
        {
            parameters += p.numel();
            using var nz = p.count_nonzero();
            nonzero += nz.item<long>();
        }
        long macs = 0, nonzeroMacs = 0;
        var removers = new List<Action>();
        foreach (var (name, module) in net.named_modules())
        {
            if (module is Conv2d conv)
                removers.Add(Hook(conv, (m, input, output) =>
                {
                    long positions = output.numel() / output.shape[1] / Batch;
                    macs += positions * conv.weight!.numel();
                    using var nz = conv.weight!.count_nonzero();
                    nonzeroMacs += positions * nz.item<long>();
                    return output;
                }));
            else if (module is Linear linear)
                removers.Add(Hook(linear, (m, input, output) =>
                {
                    long rows = output.numel() / output.shape[^1] / Batch;
                    macs += rows * linear.weight!.numel();
                    using var nz = linear.weight!.count_nonzero();
                    nonzeroMacs += rows * nz.item<long>();
                    return output;
                }));
        }
        bool wasTraining = net.training;
        net.eval();
        try
        {
            using var noGrad = no_grad();
            ExtraMacs.Reset();
            using var x = zeros(Batch, options.InChannels, options.InputSize, options.InputSize, device: device);
            using var y = net.forward(x);
            macs += ExtraMacs.Total / Batch;
            nonzeroMacs += ExtraMacs.Total / Batch;
        }
        finally
        {
            foreach (var remove in removers) remove();
            net.train(wasTraining);
        }
        return (parameters, nonzero, macs, nonzeroMacs);
    }

    internal static Action Hook<T>(T module, Func<nn.Module<Tensor, Tensor>, Tensor, Tensor, Tensor> hook)
        where T : nn.HookableModule<Func<nn.Module<Tensor, Tensor>, Tensor, Tensor>, Func<nn.Module<Tensor, Tensor>, Tensor, Tensor, Tensor>>
    {
        var handle = module.register_forward_hook(hook);
        return () => handle.remove();
    }
}

/// <summary>MACs of weight-free matrix products (attention) that modules add while counting.</summary>
public static class ExtraMacs
{
    [ThreadStatic] static long total;
    public static long Total => total;
    public static void Reset() => total = 0;
    public static void Add(long macs) => total += macs;
}
