using System.Diagnostics;

namespace DepthPrune.Runtime;

/// <summary>Wall-clock medians for benchmarks and reports: a shared machine is noisy, so what is
/// compared is timed alternately and summarised by medians.</summary>
public static class Timing
{
    /// <summary>Median wall time in seconds of `repeats` runs, after one warm-up run.</summary>
    public static double Median(int repeats, Action run) => Interleaved(repeats, run)[0];

    /// <summary>Medians of several actions timed in turn (a, b, a, b, ...), so drift on a shared
    /// machine hits them alike; one warm-up run each first.</summary>
    public static double[] Interleaved(int repeats, params Action[] runs)
    {
        foreach (var run in runs) run();
        var times = runs.Select(_ => new List<double>()).ToArray();
        for (int i = 0; i < repeats; i++)
            for (int r = 0; r < runs.Length; r++)
            {
                var clock = Stopwatch.StartNew();
                runs[r]();
                times[r].Add(clock.Elapsed.TotalSeconds);
            }
        return times.Select(MedianOf).ToArray();
    }

    /// <summary>The median of the values (sorts the list in place).</summary>
    public static double MedianOf(List<double> values)
    {
        values.Sort();
        int n = values.Count;
        return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    }
}
