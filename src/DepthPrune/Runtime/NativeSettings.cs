using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace DepthPrune.Runtime;

/// <summary>Native settings made before libtorch starts.
/// 1. glibc malloc keeps freed blocks up to 32 MiB in its heap instead of returning them to the
/// OS: libtorch allocates every intermediate tensor with malloc, and with glibc's defaults each
/// large one was fresh mmap'd memory, page-faulted on first touch (a compare over a 3.2M-element
/// map took 1.9-4.9 ms that way, 0.7 ms with the blocks reused; bench `kernels`).
/// 2. oneDNN (libtorch's CPU convolution library) is capped at AVX kernels. Why: on this project's
/// AMD EPYC machines (AVX-512), libtorch 2.10's float32 convolution backward-data kernels (the
/// input gradient, and conv_transpose2d, which shares them) return wrong values for some shapes:
/// relative errors of 0.2-0.4 against a float64 reference, for 8 of 24 checked geometries with
/// oneDNN's default AVX-512 kernels and 2 of 24 with AVX2 (a 1-channel 5x5 padded conv, LeNet-5's
/// first layer, among them). Forward and weight gradients were right everywhere; with the AVX
/// kernels all 24 are right (ConvOracleTests). The price is speed: ResNet-18 w0.125 training ran
/// at 0.6x the AVX2 speed (docs/RESULTS.md). oneDNN reads the variable when it starts, so
/// it is set in the native environment as soon as this library loads, unless the user set it.</summary>
static class NativeSettings
{
    public const string IsaVariable = "ONEDNN_MAX_CPU_ISA";

    [DllImport("libc", EntryPoint = "setenv")]
    static extern int SetEnv(string name, string value, int overwrite);

    [DllImport("libc", EntryPoint = "mallopt")]
    static extern int MallOpt(int parameter, int value);
    const int MallocTrimThreshold = -1, MallocMmapThreshold = -3;

#pragma warning disable CA2255 // must run before libtorch (and oneDNN inside it) starts
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Apply()
    {
        if (!OperatingSystem.IsLinux()) return;
        if (Environment.GetEnvironmentVariable(IsaVariable) is null) SetEnv(IsaVariable, "AVX", 0);
        try
        {
            MallOpt(MallocMmapThreshold, 32 << 20);   // glibc's largest allowed threshold
            MallOpt(MallocTrimThreshold, 256 << 20);
        }
        catch (EntryPointNotFoundException) { }      // not glibc (e.g. musl): nothing to tune
    }
}
