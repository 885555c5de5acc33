using System.CommandLine;

namespace DepthPrune.Cli.Commands;

/// <summary>Options shared by many commands, built fresh per command (an option belongs to one parent).</summary>
public static class CommonOptions
{
    public static Option<bool> Json() => new("--json") { Description = "Print one JSON document instead of text" };

    public static Option<string> Device() => new("--device")
    {
        Description = "cpu, cuda or auto",
        DefaultValueFactory = _ => "cpu",
    };
}
