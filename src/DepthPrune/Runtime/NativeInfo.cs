using System.Reflection;
using DepthPrune.Runtime.Isa;
using TorchSharp;

namespace DepthPrune.Runtime;

/// <summary>What the tool runs on: versions, device, threads, oneDNN's ISA limit, and whether libtorch loaded.</summary>
public sealed record NativeInfo(string Version, string TorchSharp, string LibTorch, string Device,
    int Threads, bool NativeLoaded, string? LoadError, IsaChoice Isa, string Cpu)
{
    public static NativeInfo Probe(Compute compute)
    {
        string version = typeof(NativeInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()
            ?.InformationalVersion.Split('+')[0] ?? "unknown";
        string torchSharp = typeof(torch).Assembly.GetName().Version?.ToString(3) ?? "unknown";
        try
        {
            using var probe = torch.ones(2, 2).matmul(torch.ones(2, 2));
            bool ok = probe.sum().item<float>() == 8f;
            return new NativeInfo(version, torchSharp, torch.__version__, compute.Name, torch.get_num_threads(), ok, null, IsaSelection.Current, CpuIdentity.Current.Model);
        }
        catch (Exception e) when (e is TypeInitializationException or DllNotFoundException or NotSupportedException)
        {
            return new NativeInfo(version, torchSharp, "unavailable", compute.Name, 0, false, (e.InnerException ?? e).Message, IsaSelection.Current, CpuIdentity.Current.Model);
        }
    }
}
