using System.CommandLine;
using System.CommandLine.Help;
using DepthPrune.Cli.Commands;
using DepthPrune.Runtime;

namespace DepthPrune.Cli;

/// <summary>Builds the command tree and applies the conventions every command follows:
/// exit 0 success, 1 runtime failure, 2 usage error; one-line errors; stack traces with --verbose.</summary>
public static class CliApp
{
    /// <summary>Stopped: 128 + SIGINT, as shells report an interrupted program.</summary>
    public const int Ok = 0, Failure = 1, Usage = 2, Stopped = 130;

    public static readonly Option<bool> Verbose = new("--verbose") { Description = "Print stack traces on failure", Recursive = true };

    public static readonly Option<int?> Threads = Commands.NumberOptions.Optional<int>("--threads",
        "Threads for libtorch's kernels (default: OMP_NUM_THREADS, else the CPUs this process may use); give runs sharing a machine a share of its cores each",
        v => v is >= 1 and <= 1024, "need 1 to 1024");

    /// <summary>The command tree. Its root is named "depthprune" whatever the host process is called
    /// (a RootCommand would take the assembly's name, DepthPrune.Cli, for its usage lines).</summary>
    public static Command Build(TextWriter output, TextWriter error)
    {
        var root = new Command("depthprune", "Make deep networks shallower with entropy-guided linearization and pruning")
        {
            new HelpOption(), new VersionOption(),
        };
        root.Options.Add(Verbose);
        Threads.Recursive = true;
        root.Options.Add(Threads);
        foreach (Command command in CommandSet.All(output, error)) root.Subcommands.Add(command);
        return root;
    }

    /// <summary>A libtorch error carries its native stack in the message ("Exception raised from ...
    /// frame #0 ..."): the first line says what failed; --verbose shows the rest.</summary>
    public static string OneLine(Exception e)
    {
        if (e is not System.Runtime.InteropServices.ExternalException) return e.Message;
        string first = e.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()?.Trim() ?? e.Message;
        return first.Contains("not enough memory", StringComparison.OrdinalIgnoreCase)
            ? $"libtorch ran out of memory: {first} (a smaller --width, --input-size or --batch-size needs less)"
            : $"libtorch: {first} (--verbose shows its native stack)";
    }

    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        Command root = Build(output, error);
        ParseResult parsed = root.Parse(args);
        try
        {
            string[] expanded = ConfigFile.Expand(args, parsed);   // --config: the file's values as flags
            if (expanded.Length != args.Length) parsed = root.Parse(expanded);
        }
        catch (UsageException e)
        {
            error.WriteLine("depthprune: " + e.Message);
            return Usage;
        }
        if (parsed.Errors.Count > 0)
        {
            error.WriteLine("depthprune: " + string.Join("; ", parsed.Errors.Select(e => e.Message).Distinct()));
            return Usage;
        }
        bool verbose = parsed.GetValue(Verbose);
        int threadsBefore;
        try { threadsBefore = ThreadBudget.Apply(ThreadBudget.FromEnvironment(parsed.GetValue(Threads))); }
        catch (UsageException e)
        {
            error.WriteLine("depthprune: " + e.Message);
            return Usage;
        }
        LibtorchLog.ErrorsOnly();
        // Ctrl-C: the first asks the run to stop at its next checkpoint, a second ends the process.
        ConsoleCancelEventHandler onCtrlC = (_, e) =>
        {
            if (StopRequest.IsRequested) return;
            StopRequest.Request();
            e.Cancel = true;
            error.WriteLine("depthprune: stopping after the current batch, once a resumable checkpoint is written (Ctrl-C again to quit now)");
        };
        Console.CancelKeyPress += onCtrlC;
        try
        {
            return parsed.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        }
        catch (RunStoppedException stopped)
        {
            bool resumable = parsed.CommandResult.Command.Options.Any(o => o.Name == "--resume");
            error.WriteLine($"depthprune: {stopped.Message}" +
                            (resumable ? $"; continue with: depthprune {string.Join(" ", args.Where(a => a != "--resume"))} --resume" : ""));
            return Stopped;
        }
        catch (Exception e)
        {
            Exception root0 = e is AggregateException { InnerException: { } inner } ? inner : e;
            error.WriteLine("depthprune: " + (verbose ? root0.Message : OneLine(root0)));
            if (verbose) error.WriteLine(root0);
            return root0 is UsageException ? Usage : Failure;
        }
        finally
        {
            ThreadBudget.Apply(new ThreadBudget.Budget(threadsBefore, "restored"));   // a host calling Run twice keeps its own setting
            Console.CancelKeyPress -= onCtrlC;
            StopRequest.Clear();
        }
    }
}
