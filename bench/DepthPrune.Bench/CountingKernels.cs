using System.Diagnostics;
using DepthPrune.Entropy;
using static TorchSharp.torch;

namespace DepthPrune.Bench;

/// <summary>Ways to count z >= 0 per neuron, against one ReLU pass, on a conv map and on a
/// fully connected layer's output.</summary>
static class CountingKernels
{
    public static void Run()
    {
        Console.WriteLine("## Counting kernels (mean of 30, ms)");
        Console.WriteLine();
        Console.WriteLine("| kernel | conv [256,64,14,14] | linear [256,512] |");
        Console.WriteLine("|---|---:|---:|");
        using var conv = randn(256, 64, 14, 14);
        using var linear = randn(256, 512);
        Row("relu (reference)", z => nn.functional.relu(z).Dispose());
        Row("ge", z => z.ge(0).Dispose());
        Row("ge, int32 sum over inner, int64 sum over batch (device path)", z =>
        {
            using var scope = NewDisposeScope();
            z.ge(0).reshape(256, z.shape[1], -1).sum(2, type: ScalarType.Int32).sum(0, type: ScalarType.Int64);
        });
        Row("NeuronCounter.Observe (in-place CPU kernel)", z =>
        {
            var counter = new NeuronCounter(z.shape[1]);
            counter.Observe(z, 1);
        });
        Console.WriteLine();

        void Row(string name, Action<Tensor> kernel) =>
            Console.WriteLine($"| {name} | {Time(() => kernel(conv)):F3} | {Time(() => kernel(linear)):F3} |");
    }

    static double Time(Action kernel)
    {
        for (int i = 0; i < 3; i++) kernel();
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < 30; i++) kernel();
        return clock.Elapsed.TotalMilliseconds / 30;
    }
}
