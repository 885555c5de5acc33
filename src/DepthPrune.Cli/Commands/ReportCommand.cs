using System.CommandLine;
using DepthPrune.Reporting;
using DepthPrune.Runtime;

namespace DepthPrune.Cli.Commands;

/// <summary>`depthprune report RUN [RUN ...] [--out DIR]`: one run's report.md rewritten, or several compared.</summary>
public static class ReportCommand
{
    public static Command Create(TextWriter output)
    {
        Argument<string[]> runs = new("runs") { Description = "Method run folders (each holds run.json)", Arity = ArgumentArity.OneOrMore };
        Option<string?> outDir = PathOptions.OutputFolder("--out", "Where to write report.md and plots/ (default: the run folder; required for several runs)");
        var command = new Command("report", "Write report.md with plots for a method run, or compare several runs (or every run of a sweep folder)") { runs, outDir };
        command.SetAction(parsed =>
        {
            string[] dirs = parsed.GetValue(runs)!;
            foreach (string dir in dirs)
                if (!Directory.Exists(dir)) throw new UsageException($"{dir}: no such run folder");
            string? target = parsed.GetValue(outDir);
            // A sweep folder (no run.json, run folders inside) is its runs compared.
            if (dirs.Length == 1 && !File.Exists(Path.Combine(dirs[0], Methods.MethodRun.Record)))
            {
                var cells = Directory.GetDirectories(dirs[0]).Where(d => File.Exists(Path.Combine(d, Methods.MethodRun.Record))).Order(StringComparer.Ordinal).ToArray();
                if (cells.Length > 0) { output.WriteLine(RunReport.Compare(cells, target ?? dirs[0])); return CliApp.Ok; }
            }
            string path = dirs.Length == 1
                ? RunReport.Write(dirs[0], RunReport.Load(dirs[0]), target)
                : RunReport.Compare(dirs, target ?? throw new UsageException("--out: required when comparing several runs"));
            output.WriteLine(path);
            return CliApp.Ok;
        });
        return command;
    }
}
