using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace DepthPrune.Runtime;

/// <summary>Native settings made before libtorch starts.
/// 1. glibc malloc keeps freed blocks up to 32 MiB in its heap instead of returning them to the
/// OS: libtorch allocates every intermediate tensor with malloc, and with glibc's defaults each
/// large one was fresh mmap'd memory, page-faulted on first touch (a compare over a 3.2M-element
/// map took 1.9-4.9 ms that way, 0.7 ms with the blocks reused; bench `kernels`).
/// 2. oneDNN's instruction-set limit, chosen per machine by verification (IsaSelection): oneDNN
/// reads it when it starts, so it is set in the native environment as soon as this library loads.</summary>
static class NativeSettings
{
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
        Isa.IsaSelection.Apply((name, value) => { SetEnv(name, value, 1); Environment.SetEnvironmentVariable(name, value); });
        try
        {
            MallOpt(MallocMmapThreshold, 32 << 20);   // glibc's largest allowed threshold
            MallOpt(MallocTrimThreshold, 256 << 20);
        }
        catch (EntryPointNotFoundException) { }      // not glibc (e.g. musl): nothing to tune
    }
}
