namespace DepthPrune.Tests.Reliability;

/// <summary>Resident memory as the kernel counts it (/proc/self/status), native allocations included:
/// the managed heap alone cannot see what libtorch or SkiaSharp allocate.</summary>
static class ProcessMemory
{
    static long Kilobytes(string field) =>
        long.Parse(File.ReadLines("/proc/self/status").First(l => l.StartsWith(field + ":")).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;

    /// <summary>How far the peak resident size rose above the resident size before the action: the
    /// peak is reset first (writing 5 to /proc/self/clear_refs), so an earlier test's peak does not hide it.</summary>
    public static long PeakGrowthDuring(Action action)
    {
        File.WriteAllText("/proc/self/clear_refs", "5");
        long before = Kilobytes("VmRSS");
        action();
        return Kilobytes("VmHWM") - before;
    }
}
