using System.Reflection;

namespace DepthPrune.Runtime.Isa;

/// <summary>Decides oneDNN's instruction-set limit for this process before libtorch starts, by
/// verification instead of a blanket cap: on some CPUs some of oneDNN's float32 convolution kernels
/// return wrong input gradients (20-80% error, seen with the AVX-512 and AVX2 kernels on one AMD
/// EPYC), while on others every kernel is right and a cap only costs speed (0.6x). Order:
/// the user's ONEDNN_MAX_CPU_ISA; a cached verdict for this CPU, libtorch and geometry set; a fresh
/// check (child processes, fastest ISA first); and AVX when nothing could be checked.</summary>
public static class IsaSelection
{
    public const string Variable = "ONEDNN_MAX_CPU_ISA";

    /// <summary>The choice in force in this process (set when the library loads).</summary>
    public static IsaChoice Current { get; private set; } = new(IsaChooser.Fallback, IsaSource.Fallback, "not decided yet", []);

    internal static void Apply(Action<string, string> setEnvironment)
    {
        var cache = IsaCache.Default();
        var checker = ConvCheckProcess.Beside(AppContext.BaseDirectory);
        Current = Resolve(Environment.GetEnvironmentVariable(Variable), CpuIdentity.Current, cache, checker,
            note: message => Console.Error.WriteLine("depthprune: " + message));
        if (Current.Source != IsaSource.UserSet) setEnvironment(Variable, Current.Isa);
    }

    /// <summary>The decision without side effects on this process (tests call it with their own
    /// cache folder and checker).</summary>
    public static IsaChoice Resolve(string? userSetting, CpuIdentity cpu, IsaCache cache, ConvCheckProcess checker, Action<string> note)
    {
        if (!string.IsNullOrWhiteSpace(userSetting))
            return new IsaChoice(userSetting, IsaSource.UserSet, $"{Variable}={userSetting} is set in the environment; no check was run", []);
        string key = IsaCache.Key(cpu, TorchSharpVersion, Environment.ProcessorCount);
        if (cache.Find(key) is { } cached) return cached;
        if (!checker.Exists)
            return new IsaChoice(IsaChooser.Fallback, IsaSource.Fallback, $"the conv checker {checker.CheckerPath} is missing, so nothing was verified", []);
        note("checking oneDNN's float32 convolution kernels against float64 on this CPU (once; the verdict is cached)");
        IsaChoice choice = IsaChooser.Choose(cpu.IsaCandidates(), checker.Run);
        foreach (IsaRejection r in choice.Rejected) note($"oneDNN ISA {r.Isa} rejected: {r.Reason}");
        if (choice.Rejected.All(r => r.CheckRan)) cache.Store(key, cpu, choice);
        return choice;
    }

    static string TorchSharpVersion =>
        typeof(TorchSharp.torch).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(TorchSharp.torch).Assembly.GetName().Version?.ToString() ?? "unknown";
}
