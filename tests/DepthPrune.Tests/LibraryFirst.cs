using System.Runtime.CompilerServices;

namespace DepthPrune.Tests;

static class LibraryFirst
{
    /// <summary>Some tests call torch before any library type; the library's native settings
    /// (NativeSettings) must be in place before libtorch starts, so its module initializer runs first.</summary>
#pragma warning disable CA2255
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Load() => RuntimeHelpers.RunModuleConstructor(typeof(DepthPrune.Runtime.Compute).Module.ModuleHandle);
}
