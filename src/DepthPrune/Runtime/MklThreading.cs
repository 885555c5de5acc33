using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace DepthPrune.Runtime;

/// <summary>Runs MKL single-threaded inside libtorch (torch's own intra-op threads stay).
/// Why: with libtorch 2.10 (TorchSharp-cpu 0.107) on 2 threads, the input gradient of small
/// convolutions (MKL gemm nested in torch's parallel col2im loop) came out wrong, even NaN,
/// and varied from run to run; with MKL_NUM_THREADS=1 it matches the transposed-convolution
/// oracle exactly (ConvGradientOracleTests). MKL reads the variable when it starts, so it is
/// set in the native environment as soon as this library loads, unless the user set it.</summary>
static class MklThreading
{
    [DllImport("libc", EntryPoint = "setenv")]
    static extern int SetEnv(string name, string value, int overwrite);

#pragma warning disable CA2255 // must run before libtorch (and MKL inside it) initialises
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void KeepMklSequential()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return;
        if (Environment.GetEnvironmentVariable("MKL_NUM_THREADS") is not null) return;
        SetEnv("MKL_NUM_THREADS", "1", 0);
    }
}
