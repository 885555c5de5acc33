using System.CommandLine;

namespace DepthPrune.Cli.Commands;

/// <summary>Options shared by many commands, built fresh per command (an option belongs to one parent).</summary>
public static class CommonOptions
{
    public static Option<string> Checkpoint() => PathOptions.InputFile("--checkpoint", "A checkpoint written by train or a method");

    /// <summary>A whole-number option that must be positive, refused by name otherwise.</summary>
    public static Option<int> Positive(string name, string description, int fallback) =>
        NumberOptions.WithDefault(name, description, fallback, v => v > 0, "must be positive");

    public static Option<bool> Json() => new("--json") { Description = "Print one JSON document instead of text" };

    public static Option<string> Device() => new("--device")
    {
        Description = "cpu, cuda or auto",
        DefaultValueFactory = _ => "cpu",
    };
}
