using System.Diagnostics;
using static DepthPrune.Tests.Foundation.CliConventionTests;

namespace DepthPrune.Tests.Foundation;

public class SweepTests
{
    const string Grid = "methods: [easier, nepenthe]\ngrid:\n  seed: [0, 1]\nflags:\n  model: mlp\n  width: 0.25\n  train-subset: 300\n" +
                        "  pretrain-epochs: 2\n  finetune-epochs: 1\n  max-iterations: 1\n  tolerance: 100\n";

    static Process Shard(string grid, string outDir, string shard) => ChildProcess.StartCli("sweep", "--grid", grid, "--shard", shard, "--threads", "1", "--out", outDir);

    /// <summary>The table rows of a comparison report (the plots are drawn from the same records).</summary>
    static string Table(string report) => string.Join("\n", File.ReadLines(report).Where(l => l.StartsWith('|')));

    [FashionMnistFact]
    public void Two_shards_in_two_processes_give_the_table_of_one_process()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["grid.yaml"], Grid);
        var shards = new[] { Shard(dir["grid.yaml"], dir["two"], "0/2"), Shard(dir["grid.yaml"], dir["two"], "1/2") };
        foreach (var p in shards)
        {
            string err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, err);
            Assert.Contains("4 cells", err);
        }
        var (code, _, oneErr) = Run("sweep", "--grid", dir["grid.yaml"], "--out", dir["one"]);
        Assert.True(code == 0, oneErr);
        Assert.Equal(0, Run("report", dir["two"]).Code);
        Assert.Equal(0, Run("report", dir["one"]).Code);
        string two = Table(dir["two/report.md"]);
        Assert.Equal(6, two.Split('\n').Length);   // header, rule, four cells
        Assert.Contains("| nepenthe-seed1 | nepenthe | mlp |", two);
        Assert.Equal(Table(dir["one/report.md"]), two);

        // Run again: every cell is complete and skipped.
        var (again, _, againErr) = Run("sweep", "--grid", dir["grid.yaml"], "--out", dir["one"]);
        Assert.Equal(0, again);
        Assert.Equal(4, againErr.Split('\n').Count(l => l.EndsWith("complete, skipped")));
    }

    [Fact]
    public void Cells_are_the_product_of_methods_and_grid_values_in_a_fixed_order()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["g.yaml"], "methods: [easier, egp]\ngrid:\n  seed: [0, 1]\n  width: [0.25, 0.5]\nflags:\n  model: mlp\n");
        var cells = DepthPrune.Cli.Commands.SweepCommand.Cells(dir["g.yaml"]);
        Assert.Equal(["easier-seed0-width0.25", "easier-seed0-width0.5", "easier-seed1-width0.25", "easier-seed1-width0.5",
                      "egp-seed0-width0.25", "egp-seed0-width0.5", "egp-seed1-width0.25", "egp-seed1-width0.5"], cells.Select(c => c.Name));
        Assert.Equal(["egp", "--model", "mlp", "--seed", "1", "--width", "0.5"], cells[^1].Args);
    }

    [Theory]
    [InlineData("methods: [easier]\nsteps: 3\n", "unknown key 'steps'")]
    [InlineData("methods: [ease]\n", "method 'ease': expected one of")]
    [InlineData("grid:\n  seed: [0]\n", "no methods listed")]
    [InlineData("methods: [easier]\ngrid:\n  tolerance: [1, -3]\nflags:\n  model: mlp\n", "cell easier-tolerance-3: --tolerance -3: must be >= 0")]
    public void Bad_grids_are_named(string grid, string message)
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["g.yaml"], grid);
        var (code, _, err) = Run("sweep", "--grid", dir["g.yaml"], "--out", dir["s"]);
        Assert.Equal(2, code);
        Assert.Contains(message, err);
        Assert.False(Directory.Exists(dir["s"]) && Directory.EnumerateFileSystemEntries(dir["s"]).Any());   // no cell ran
    }

    [Theory]
    [InlineData("2/2")]
    [InlineData("x")]
    [InlineData("-1/2")]
    public void A_bad_shard_is_a_usage_error(string shard)
    {
        var (code, _, err) = Run("sweep", "--grid", "/dev/null", "--shard", shard, "--out", "x");
        Assert.Equal(2, code);
        Assert.Contains($"--shard '{shard}'", err);
    }
}
