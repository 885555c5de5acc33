using System.CommandLine;

namespace DepthPrune.Cli.Commands;

static class ParsedExtensions
{
    /// <summary>True when the user typed the option (a default value does not count).</summary>
    public static bool WasGiven(this ParseResult parsed, Option option) => parsed.GetResult(option) is { Implicit: false };
}
