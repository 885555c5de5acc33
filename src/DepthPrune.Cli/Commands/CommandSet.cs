using System.CommandLine;

namespace DepthPrune.Cli.Commands;

/// <summary>Every top-level command of the tool.</summary>
public static class CommandSet
{
    public static IEnumerable<Command> All(TextWriter output)
    {
        yield return InfoCommand.Create(output);
        yield return DataCommand.Create(output);
        yield return ModelsCommand.Create(output);
    }
}
