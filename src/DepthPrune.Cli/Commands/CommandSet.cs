using System.CommandLine;

namespace DepthPrune.Cli.Commands;

/// <summary>Every top-level command of the tool.</summary>
public static class CommandSet
{
    public static IEnumerable<Command> All(TextWriter output, TextWriter error)
    {
        yield return InfoCommand.Create(output);
        yield return DataCommand.Create(output);
        yield return ModelsCommand.Create(output);
        yield return WeightsCommand.Create(output);
        yield return TrainCommand.Create(output, error);
        yield return EntropyCommand.Create(output);
        yield return FoldCommand.Create(output, error);
        yield return MethodCommand.Compress(output, error);
        foreach (Command method in MethodCommand.All(output, error)) yield return method;
        yield return SweepCommand.Create(output, error);
        yield return ReportCommand.Create(output);
        yield return DemoCommand.Create(output, error);
    }
}
