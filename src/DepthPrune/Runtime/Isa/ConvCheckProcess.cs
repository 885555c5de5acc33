using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace DepthPrune.Runtime.Isa;

/// <summary>Runs the conv check in a child process per ISA: oneDNN reads its limit once, when it
/// starts, so each candidate needs a fresh process. The child is DepthPrune.ConvCheck.dll, which
/// every host of this library (the CLI, the tests, the benchmarks) carries in its output folder.</summary>
public sealed class ConvCheckProcess(string checkerPath, IReadOnlyDictionary<string, string>? environment = null)
{
    public const string CheckerFile = "DepthPrune.ConvCheck.dll";
    /// <summary>Names ISAs whose check reports a wrong input gradient ("AVX2"), or whose check process
    /// dies by a signal ("AVX2:crash"), or whose check itself throws ("AVX2:throw"): how tests prove that the chooser rejects a failing ISA
    /// without needing a CPU whose kernels are really wrong.</summary>
    public const string FaultVariable = "DEPTHPRUNE_CONV_CHECK_FAULT";
    /// <summary>"sweep": the memory-safety sweep's wider grid (`DepthPrune.Bench memory`) instead of the ISA check's.</summary>
    public const string SetVariable = "DEPTHPRUNE_CONV_CHECK_SET";
    /// <summary>The child names each geometry on stderr, behind this prefix, before it runs it.</summary>
    public const string ProgressPrefix = "conv check ";
    /// <summary>A geometry takes well under a second alone and tens of seconds on a loaded machine;
    /// none finishing in this long is a stall (kernels spinning), whatever the load.</summary>
    static readonly TimeSpan StallLimit = TimeSpan.FromSeconds(90);

    public string CheckerPath => checkerPath;
    public static ConvCheckProcess Beside(string directory) => new(Path.Combine(directory, CheckerFile));
    public bool Exists => File.Exists(checkerPath);

    public ConvCheckReport Run(string isa)
    {
        var start = new ProcessStartInfo(DotnetHost(), ["exec", checkerPath])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        start.Environment[IsaSelection.Variable] = isa;
        // glibc checks the heap at every free and aborts on corruption, so an overrun is a crash, not a silent wrong result later.
        start.Environment["MALLOC_CHECK_"] = "3";
        using var process = new Process { StartInfo = start };
        var since = Stopwatch.StartNew();
        string current = "(none begun)";
        var messages = new List<string>();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (messages)
            {
                if (e.Data.StartsWith(ProgressPrefix, StringComparison.Ordinal)) { current = e.Data; since.Restart(); }
                else messages.Add(e.Data);
            }
        };
        if (!process.Start()) throw new InvalidOperationException($"could not start {checkerPath}");
        process.BeginErrorReadLine();
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        while (!process.WaitForExit(TimeSpan.FromSeconds(1)))
        {
            lock (messages)
                if (since.Elapsed < StallLimit) continue;
            process.Kill(entireProcessTree: true);
            throw new ConvCheckFault($"{CheckerFile} under {isa} stalled: no geometry finished in {StallLimit.TotalSeconds:F0} s; last begun: {current}");
        }
        process.WaitForExit();   // the last stderr lines
        string stderr;
        lock (messages) stderr = string.Join('\n', messages.Append(current));
        // Exit codes above 128 are deaths by a signal (139: SIGSEGV, 134: SIGABRT): the kernels crash.
        // A managed exception also ends in SIGABRT, but it is a fault of the check, not of the kernels.
        bool managed = messages.Any(m => m.StartsWith("Unhandled exception.", StringComparison.Ordinal));
        if (process.ExitCode > 128 && !managed)
            throw new ConvCheckFault($"{CheckerFile} under {isa} crashed (exit {process.ExitCode}) at {current}: {LastLine(string.Join('\n', messages))}");
        string last = stdout.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "";
        if (process.ExitCode != 0 || !last.StartsWith('{'))
            throw new InvalidOperationException($"{CheckerFile} under {isa} exited {process.ExitCode}: {FirstLine(stderr)}");
        return JsonSerializer.Deserialize<ConvCheckReport>(last, ConvCheckReport.Json)
               ?? throw new InvalidOperationException($"{CheckerFile} under {isa} printed no report");
    }

    /// <summary>The dotnet executable this process runs on (a test host's DOTNET_HOST_PATH, else the
    /// one that owns this runtime, else whatever PATH finds).</summary>
    internal static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host)) return host;
        string fromRuntime = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", "..", "dotnet"));
        return File.Exists(fromRuntime) ? fromRuntime : "dotnet";
    }

    static string LastLine(string text) => FirstLine(string.Join('\n', text.Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(1)));

    static string FirstLine(string text)
    {
        string line = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()?.Trim() ?? "(no output)";
        return line.Length > 300 ? line[..300] + "..." : line;
    }
}

/// <summary>The check's child crashed or stalled under an ISA: a verdict on that ISA's kernels on
/// this CPU (rejected and cached), unlike a check that could not be started at all.</summary>
public sealed class ConvCheckFault(string message) : Exception(message);
