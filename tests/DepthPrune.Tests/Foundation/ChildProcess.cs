using System.Diagnostics;

namespace DepthPrune.Tests.Foundation;

/// <summary>Starting the tool (or dotnet itself) as a separate process, for what needs one:
/// signals, parallel shards, packaging.</summary>
static class ChildProcess
{
    /// <summary>The dotnet that runs this test host (set by `dotnet test`), else the one on PATH.</summary>
    public static string Dotnet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    /// <summary>The CLI built beside the tests, as `depthprune ARGS`, with both outputs redirected.</summary>
    public static Process StartCli(params string[] args) => Process.Start(new ProcessStartInfo(Dotnet,
        ["exec", Path.Combine(AppContext.BaseDirectory, "DepthPrune.Cli.dll"), .. args])
    {
        RedirectStandardError = true, RedirectStandardOutput = true,
    })!;
}
