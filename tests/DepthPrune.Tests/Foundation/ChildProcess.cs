using System.Diagnostics;

namespace DepthPrune.Tests.Foundation;

/// <summary>Starting the tool (or dotnet itself) as a separate process, for what needs one:
/// signals, parallel shards, packaging.</summary>
static class ChildProcess
{
    /// <summary>The dotnet that runs this test host, found as the ISA checker finds it.</summary>
    public static string Dotnet => DepthPrune.Runtime.Isa.ConvCheckProcess.DotnetHost();

    /// <summary>The CLI built beside the tests, as `depthprune ARGS`, with both outputs redirected.</summary>
    public static Process StartCli(params string[] args) => Process.Start(new ProcessStartInfo(Dotnet,
        ["exec", Path.Combine(AppContext.BaseDirectory, "DepthPrune.Cli.dll"), .. args])
    {
        RedirectStandardError = true, RedirectStandardOutput = true,
    })!;
}
