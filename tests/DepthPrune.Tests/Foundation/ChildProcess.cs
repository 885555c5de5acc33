using System.Diagnostics;

namespace DepthPrune.Tests.Foundation;

/// <summary>Starting the tool (or dotnet itself) as a separate process, for what needs one:
/// signals, parallel shards, packaging.</summary>
static class ChildProcess
{
    /// <summary>The dotnet that runs this test host, found as the ISA checker finds it.</summary>
    public static string Dotnet => DepthPrune.Runtime.Isa.ConvCheckProcess.DotnetHost();

    /// <summary>The CLI built beside the tests, as `depthprune ARGS`, with both outputs redirected
    /// and SIGINT at its default: a test host started in the background ignores SIGINT, children
    /// inherit that, and the CLI (rightly) keeps ignoring it (coreutils' env resets it; it execs, same PID).</summary>
    public static Process StartCli(params string[] args) => Process.Start(new ProcessStartInfo("env",
        ["--default-signal=INT", Dotnet, "exec", Path.Combine(AppContext.BaseDirectory, "DepthPrune.Cli.dll"), .. args])
    {
        RedirectStandardError = true, RedirectStandardOutput = true,
    })!;
}
