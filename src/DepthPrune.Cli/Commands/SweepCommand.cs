using System.CommandLine;
using System.Globalization;
using DepthPrune.Runtime;
using YamlDotNet.RepresentationModel;

namespace DepthPrune.Cli.Commands;

/// <summary>`depthprune sweep --grid grid.yaml --shard I/N --out DIR`: every combination of the grid's
/// values, for every method listed, as method runs in DIR/&lt;cell&gt;. Shard I of N runs the cells whose
/// index is I modulo N, so N processes (a Slurm job array, or plain `&amp;`) share a grid with no
/// coordinator; a finished cell is skipped and an interrupted one resumed.</summary>
public static class SweepCommand
{
    public sealed record Cell(string Name, string[] Args);

    public static Command Create(TextWriter output, TextWriter error)
    {
        Option<string> grid = PathOptions.InputFile("--grid", "YAML: methods: [...], grid: {flag: [values]}, flags: {flag: value}");
        Option<string> outDir = new("--out") { Description = "Sweep folder: one run folder per cell", Required = true };
        Option<string> shard = new("--shard") { Description = "I/N: run the cells whose index is I modulo N", DefaultValueFactory = _ => "0/1" };
        shard.Validators.Add(r =>
        {
            if (r.Tokens.Count > 0 && ParseShard(r.Tokens[0].Value) is null) r.AddError($"--shard '{r.Tokens[0].Value}': expected I/N with 0 <= I < N");
        });
        var command = new Command("sweep", "Run a grid of method runs, or one shard of it (see docs/CLUSTER.md)") { grid, outDir, shard };
        command.SetAction(parsed =>
        {
            var (index, count) = ParseShard(parsed.GetValue(shard)!)!.Value;
            string dir = parsed.GetValue(outDir)!;
            var cells = Cells(parsed.GetValue(grid)!);
            // Every cell's flags are checked (as its command would parse them) before any cell runs.
            var parser = CliApp.Build(TextWriter.Null, TextWriter.Null);
            foreach (var cell in cells)
                if (parser.Parse([.. cell.Args, "--out", Path.Combine(dir, cell.Name)]).Errors is { Count: > 0 } errors)
                    throw new UsageException($"--grid {parsed.GetValue(grid)}: cell {cell.Name}: {string.Join("; ", errors.Select(e => e.Message).Distinct())}");
            // A cell runs with the sweep's own --threads (each cell would otherwise take every CPU).
            string[] threads = parsed.GetValue(CliApp.Threads) is int t ? ["--threads", t.ToString(System.Globalization.CultureInfo.InvariantCulture)] : [];
            var mine = cells.Where((_, i) => i % count == index).ToList();
            error.WriteLine($"sweep: {cells.Count} cells, shard {index}/{count} runs {mine.Count}");
            foreach (var cell in mine)
            {
                string runDir = Path.Combine(dir, cell.Name);
                string record = Path.Combine(runDir, Methods.MethodRun.Record);
                if (File.Exists(record) && Reporting.RunReport.Load(runDir).Finished)
                {
                    error.WriteLine($"sweep: {cell.Name}: complete, skipped");
                    continue;
                }
                bool resume = File.Exists(Path.Combine(runDir, Methods.MethodRun.Current));
                error.WriteLine($"sweep: {cell.Name}: {(resume ? "resuming" : "running")} {string.Join(" ", cell.Args)}");
                int code = CliApp.Run([.. cell.Args, .. threads, "--out", runDir, "--quiet", .. resume ? new[] { "--resume" } : []], TextWriter.Null, error);
                if (code != CliApp.Ok) throw new InvalidOperationException($"sweep: cell {cell.Name} failed (exit {code}); the others of this shard did not run");
            }
            output.WriteLine(dir);
            return CliApp.Ok;
        });
        return command;
    }

    static (int Index, int Count)? ParseShard(string text)
    {
        string[] parts = text.Split('/');
        return parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int i)
               && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0 && i < n ? (i, n) : null;
    }

    /// <summary>The grid's cells in a fixed order: methods as listed, then grid flags in file order,
    /// each over its values as listed (the last flag varies fastest).</summary>
    public static IReadOnlyList<Cell> Cells(string gridPath)
    {
        var root = YamlInput.Load(gridPath, "--grid") as YamlMappingNode
                   ?? throw new UsageException($"--grid {gridPath}: expected a mapping with methods, grid and flags");
        foreach (var key in root.Children.Keys.Cast<YamlScalarNode>().Select(k => k.Value))
            if (key is not ("methods" or "grid" or "flags")) throw new UsageException($"--grid {gridPath}: unknown key '{key}' (expected methods, grid, flags)");
        List<string> Values(YamlNode node, string what) => node switch
        {
            YamlSequenceNode seq => seq.Children.Select(c => (c as YamlScalarNode)?.Value ?? throw new UsageException($"--grid {gridPath}: {what} must list plain values")).ToList(),
            YamlScalarNode { Value: { } v } => [v],
            _ => throw new UsageException($"--grid {gridPath}: {what} must be a value or a list"),
        };
        var methods = root.Children.TryGetValue(new YamlScalarNode("methods"), out var m) ? Values(m, "methods") : throw new UsageException($"--grid {gridPath}: no methods listed");
        foreach (string method in methods)
            if (!Methods.DepthMethod.Names.Contains(method)) throw new UsageException($"--grid {gridPath}: method '{method}': expected one of {string.Join(", ", Methods.DepthMethod.Names)}");
        var axes = root.Children.TryGetValue(new YamlScalarNode("grid"), out var g) && g is YamlMappingNode gm
            ? gm.Children.Select(p => (Flag: ((YamlScalarNode)p.Key).Value!, Values: Values(p.Value, $"grid.{((YamlScalarNode)p.Key).Value}"))).ToList()
            : [];
        var fixedFlags = root.Children.TryGetValue(new YamlScalarNode("flags"), out var f) && f is YamlMappingNode fm
            ? fm.Children.SelectMany(p => Values(p.Value, $"flags.{((YamlScalarNode)p.Key).Value}").Prepend("--" + ((YamlScalarNode)p.Key).Value)).ToArray()
            : [];
        var cells = new List<Cell>();
        foreach (string method in methods)
        {
            IEnumerable<List<(string Flag, string Value)>> combinations = [[]];
            foreach (var (flag, values) in axes)
                combinations = combinations.SelectMany(c => values.Select(v => new List<(string, string)>(c) { (flag, v) }));
            foreach (var combination in combinations)
            {
                string name = string.Join("-", new[] { method }.Concat(combination.Select(c => c.Flag + c.Value)));
                cells.Add(new Cell(name, [method, .. fixedFlags, .. combination.SelectMany(c => new[] { "--" + c.Flag, c.Value })]));
            }
        }
        return cells;
    }
}
