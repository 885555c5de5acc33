using System.CommandLine;
using DepthPrune.Runtime;

namespace DepthPrune.Cli.Commands;

/// <summary>Flags of every command that runs a job: seed, device, output folder, resume, output form.</summary>
public sealed class RunArgs
{
    readonly Option<int> seed = NumberOptions.WithDefault("--seed", "Seed for weights, data order and augmentation", 0, v => v >= 0, "must be >= 0");
    readonly Option<string> device = CommonOptions.Device();
    readonly Option<string?> output;
    readonly Option<bool> resume = new("--resume") { Description = "Continue the run in --out from its last checkpoint" };
    readonly Option<bool> json = CommonOptions.Json();
    readonly Option<bool> quiet = new("--quiet") { Description = "No progress output" };
    readonly Option<string> config = ConfigFile.Option();

    public RunArgs(Command command, bool outputRequired)
    {
        output = PathOptions.OutputFolder("--out", "Run directory (checkpoints, run record)", outputRequired);
        foreach (Option o in new Option[] { seed, device, output, resume, json, quiet, config }) command.Options.Add(o);
    }

    public int Seed(ParseResult p) => p.GetValue(seed);
    public string? Out(ParseResult p) => p.GetValue(output);
    public bool Resume(ParseResult p) => p.GetValue(resume);
    public bool Json(ParseResult p) => p.GetValue(json);
    public bool Quiet(ParseResult p) => p.GetValue(quiet);

    /// <summary>Writes RUN/config.yaml: every flag's value as this run uses it (resolved: values a
    /// recipe gave, which then count as given), so it can be repeated with --config.</summary>
    public static void SaveConfiguration(ParseResult p, string runDir, IEnumerable<(string Key, string Value)>? resolved = null)
    {
        RunFolder.RequireWritable(runDir);   // a folder that cannot be written is refused before any work
        AtomicFile.WriteText(Path.Combine(runDir, "config.yaml"), ConfigFile.Resolved(p, resolved));
    }

    /// <summary>Applies device and seed; returns the device.</summary>
    public Compute Start(ParseResult p)
    {
        var compute = Compute.Parse(p.GetValue(device)!);
        Seeding.Seed(Seed(p));
        return compute;
    }
}
