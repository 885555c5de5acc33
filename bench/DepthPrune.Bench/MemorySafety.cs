using System.Diagnostics;
using DepthPrune.Runtime.Isa;

namespace DepthPrune.Bench;

/// <summary>The memory-safety sweep (docs/RELIABILITY.md): every conv geometry of the zoo's CNNs at
/// the narrow widths, both input shapes and small batches (ConvCheckSet.SweepModels), in both
/// layouts, at one thread and at all, for each oneDNN ISA this CPU offers, each in a child process
/// under glibc's heap checking (MALLOC_CHECK_=3) that is killed when no geometry finishes in 90 s.
/// A row per ISA: agrees, wrong (disagrees with float64), crashed or stalled, naming the geometry.</summary>
static class MemorySafety
{
    public static void Run()
    {
        string checker = Path.Combine(AppContext.BaseDirectory, ConvCheckProcess.CheckerFile);
        var process = new ConvCheckProcess(checker, new Dictionary<string, string> { [ConvCheckProcess.SetVariable] = "sweep" });
        Console.WriteLine($"memory-safety sweep on {CpuIdentity.Current.Model}, {Environment.ProcessorCount} CPUs");
        Console.WriteLine("| ISA | verdict | geometries | seconds | detail |");
        Console.WriteLine("|---|---|---:|---:|---|");
        foreach (string isa in CpuIdentity.Current.IsaCandidates())
        {
            var clock = Stopwatch.StartNew();
            try
            {
                var report = process.Run(isa);
                string detail = report.Failures.Count == 0 ? $"worst relative error {report.Worst:G2}" : $"{report.Failures.Count} disagree, e.g. {report.Failures[0].Geometry}";
                Console.WriteLine($"| {isa} | {(report.Passed ? "agrees" : "wrong")} | {report.Checked} | {clock.Elapsed.TotalSeconds:F0} | {detail} |");
            }
            catch (ConvCheckFault fault)
            {
                Console.WriteLine($"| {isa} | {(fault.Message.Contains("stalled") ? "stalled" : "crashed")} | | {clock.Elapsed.TotalSeconds:F0} | {fault.Message} |");
            }
        }
    }
}
