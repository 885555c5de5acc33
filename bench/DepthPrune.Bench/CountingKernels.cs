using System.Diagnostics;
using static TorchSharp.torch;

namespace DepthPrune.Bench;

/// <summary>Ways to count z >= 0 per channel of a conv activation, against one ReLU pass.</summary>
static class CountingKernels
{
    public static void Run()
    {
        using var z = randn(256, 64, 14, 14);
        Console.WriteLine("## Counting kernels on [256,64,14,14] (mean of 30, ms)");
        Console.WriteLine();
        Console.WriteLine("| kernel | ms |");
        Console.WriteLine("|---|---:|");
        Time("relu (reference)", () => nn.functional.relu(z));
        Time("ge", () => z.ge(0));
        Time("ge, sum over HW (int32), sum over batch", () => z.ge(0).reshape(256, 64, -1).sum(2, type: ScalarType.Int32).sum(0, type: ScalarType.Int64));
        Time("ge, sum over [0,2,3] (int64)", () => z.ge(0).sum([0, 2, 3], type: ScalarType.Int64));
        Time("ge, to float, sum over HW, sum over batch", () => z.ge(0).to(ScalarType.Float32).reshape(256, 64, -1).sum(2).sum(0));
        Time("count_nonzero over HW", () => count_nonzero(z.ge(0).reshape(256, 64, -1), [2]).sum(0));
        Time("signbit, sum over HW (int32)", () => z.signbit().reshape(256, 64, -1).sum(2, type: ScalarType.Int32).sum(0));
        Console.WriteLine();
    }

    static void Time(string name, Func<Tensor> kernel)
    {
        for (int i = 0; i < 3; i++) using (NewDisposeScope()) kernel();
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < 30; i++) using (NewDisposeScope()) kernel();
        Console.WriteLine($"| {name} | {clock.Elapsed.TotalMilliseconds / 30:F3} |");
    }
}
