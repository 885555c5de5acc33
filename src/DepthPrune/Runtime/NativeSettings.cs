using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace DepthPrune.Runtime;

/// <summary>Caps oneDNN (libtorch's CPU convolution library) at AVX2 kernels.
/// Why: on this project's AMD EPYC machines (AVX-512), libtorch 2.10's convolution backward
/// sometimes returned wrong input gradients, even NaN, varying from run to run; the
/// transposed-convolution oracle test (ConvGradientOracleTests) and short trainings failed in
/// about one suite run in three. With ONEDNN_MAX_CPU_ISA=AVX2 every run matched. oneDNN reads the
/// variable when it starts, so it is set in the native environment as soon as this library
/// loads, unless the user has set it.</summary>
static class NativeSettings
{
    public const string IsaVariable = "ONEDNN_MAX_CPU_ISA";

    [DllImport("libc", EntryPoint = "setenv")]
    static extern int SetEnv(string name, string value, int overwrite);

#pragma warning disable CA2255 // must run before libtorch (and oneDNN inside it) starts
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Apply()
    {
        if (!OperatingSystem.IsLinux()) return;
        if (Environment.GetEnvironmentVariable(IsaVariable) is null) SetEnv(IsaVariable, "AVX2", 0);
    }
}
