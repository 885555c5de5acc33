using System.CommandLine;
using DepthPrune.Runtime;

namespace DepthPrune.Cli.Commands;

public static class InfoCommand
{
    public static Command Create(TextWriter output)
    {
        Option<bool> json = CommonOptions.Json();
        Option<string> device = CommonOptions.Device();
        var command = new Command("info", "Versions, device, threads, and whether libtorch loaded") { json, device };
        command.SetAction(parsed =>
        {
            NativeInfo info = NativeInfo.Probe(Compute.Parse(parsed.GetValue(device)!));
            string threadSource = ThreadBudget.FromEnvironment(parsed.GetValue(CliApp.Threads)).Source;
            if (parsed.GetValue(json))
                output.WriteLine(JsonOut.Serialize(new
                {
                    version = info.Version, torchsharp = info.TorchSharp, libtorch = info.LibTorch, device = info.Device,
                    threads = info.Threads, threads_from = threadSource, native_loaded = info.NativeLoaded, load_error = info.LoadError, cpu = info.Cpu,
                    onednn_isa = new
                    {
                        isa = info.Isa.Isa, source = info.Isa.SourceName, detail = info.Isa.Detail,
                        rejected = info.Isa.Rejected.Select(r => new { isa = r.Isa, reason = r.Reason }),
                    },
                    cpu_batch_layout = MemoryLayout.Describe(),
                }));
            else
            {
                output.WriteLine($"DepthPrune   {info.Version}");
                output.WriteLine($"TorchSharp   {info.TorchSharp}");
                output.WriteLine($"libtorch     {info.LibTorch}");
                output.WriteLine($"device       {info.Device}");
                output.WriteLine($"threads      {info.Threads} (from {threadSource})");
                output.WriteLine($"cpu          {info.Cpu}");
                output.WriteLine($"oneDNN ISA   {info.Isa.Isa} ({info.Isa.SourceName}: {info.Isa.Detail})");
                foreach (var r in info.Isa.Rejected) output.WriteLine($"  rejected   {r.Isa}: {r.Reason}");
                output.WriteLine($"CPU batches  {MemoryLayout.Describe()}");
                output.WriteLine($"native       {(info.NativeLoaded ? "loaded" : "NOT loaded: " + info.LoadError)}");
            }
            return info.NativeLoaded ? CliApp.Ok : CliApp.Failure;
        });
        return command;
    }
}
