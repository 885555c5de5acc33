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
    static readonly TimeSpan Limit = TimeSpan.FromMinutes(2);

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
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {checkerPath}");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync(), stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Limit))
        {
            process.Kill(entireProcessTree: true);
            throw new ConvCheckFault($"{CheckerFile} under {isa} stalled: did not finish in {Limit.TotalSeconds:F0} s (a check takes seconds)");
        }
        // Exit codes above 128 are deaths by a signal (139: SIGSEGV, 134: SIGABRT): the kernels crash.
        if (process.ExitCode > 128)
            throw new ConvCheckFault($"{CheckerFile} under {isa} crashed (exit {process.ExitCode}): {LastLine(stderr.Result)}");
        string last = stdout.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "";
        if (process.ExitCode != 0 || !last.StartsWith('{'))
            throw new InvalidOperationException($"{CheckerFile} under {isa} exited {process.ExitCode}: {FirstLine(stderr.Result)}");
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
