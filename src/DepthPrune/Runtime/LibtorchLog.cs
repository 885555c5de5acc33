using System.Runtime.InteropServices;

namespace DepthPrune.Runtime;

/// <summary>libtorch logs "Could not initialize NNPACK! Reason: Unsupported hardware." each time it
/// considers NNPACK for a conv (in eval, a single image, or a 1x1 conv on one thread) on a CPU
/// NNPACK does not support: a batch-1 latency measurement printed thousands of such lines. Its log
/// level is raised to errors once libtorch is loaded, unless the user set TORCH_CPP_LOG_LEVEL
/// (which libtorch without Python never reads itself).</summary>
public static class LibtorchLog
{
    public const string LevelVariable = "TORCH_CPP_LOG_LEVEL";
    const int Error = 2;

    /// <summary>The level now in force (null: not found in the loaded libtorch).</summary>
    public static int? Level => Flag() is { } flag ? Marshal.ReadInt32(flag) : null;

    /// <summary>Errors only, unless TORCH_CPP_LOG_LEVEL is set; returns whether the level was set.</summary>
    public static bool ErrorsOnly()
    {
        if (Environment.GetEnvironmentVariable(LevelVariable) is not null || Flag() is not { } flag) return false;
        Marshal.WriteInt32(flag, Error);
        return true;
    }

    static IntPtr? Flag()
    {
        if (!OperatingSystem.IsLinux()) return null;
        _ = TorchSharp.torch.get_num_threads();   // libtorch, and libc10 with it, loaded
        // By its soname the dynamic loader returns the copy libtorch already uses.
        return NativeLibrary.TryLoad("libc10.so", out var c10) && NativeLibrary.TryGetExport(c10, "FLAGS_caffe2_log_level", out var flag) ? flag : null;
    }
}
