using TorchSharp;

namespace DepthPrune.Runtime;

/// <summary>The one place a device is chosen; everything that makes tensors takes a Compute.</summary>
public sealed class Compute
{
    public torch.Device Device { get; }
    public string Name => Device.type == DeviceType.CUDA ? "cuda" : "cpu";

    Compute(torch.Device device) => Device = device;

    public static Compute Cpu { get; } = new(torch.CPU);

    /// <summary>"cpu", "cuda", or "auto" (cuda when present, else cpu).</summary>
    public static Compute Parse(string choice) => choice switch
    {
        "cpu" => Cpu,
        "cuda" => torch.cuda.is_available()
            ? new Compute(torch.CUDA)
            : throw new UsageException("--device cuda: no CUDA device is available (this build references TorchSharp-cpu)"),
        "auto" => torch.cuda.is_available() ? new Compute(torch.CUDA) : Cpu,
        _ => throw new UsageException($"--device '{choice}': expected cpu, cuda or auto"),
    };
}
