using DepthPrune.Data;
using DepthPrune.Methods;
using DepthPrune.Models;
using DepthPrune.Reporting;
using DepthPrune.Runtime;
using DepthPrune.Tests.Training;
using DepthPrune.Training;
using static DepthPrune.Tests.Foundation.CliConventionTests;

namespace DepthPrune.Tests.Reporting;

public class RunReportTests
{
    static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    static RunRecord RunMethod(string method, string dir, DataBundle data, RemovalObjective objective = RemovalObjective.Entropy) => MethodRun.Run(DepthMethod.Create(method), new MethodRunSetup
    {
        OutDir = dir, Data = data, DataOptions = new DataOptions("quadrants"), Compute = Compute.Cpu, Recorded = r => RunReport.Write(dir, r),
        CreateModel = () => { Seeding.Seed(2); return ModelZoo.Create("mlp", new ModelOptions(Classes: 4, InChannels: 1, Width: 0.0625, InputSize: 8)); },
        Pretrain = new TrainOptions { Epochs = 1, BatchSize = 32, LearningRate = 0.05, Seed = 2 },
        Options = new MethodOptions { Finetune = new TrainOptions { Epochs = 1, BatchSize = 32, LearningRate = 0.005 }, MaxIterations = 2, Tolerance = 100, Seed = 2, Objective = objective },
    });

    static void AssertPng(string path)
    {
        Assert.True(File.Exists(path), path);
        byte[] bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 5000, $"{path}: {bytes.Length} bytes");
        Assert.Equal(PngSignature, bytes[..8]);
    }

    [Fact]
    public void Every_method_run_leaves_a_report_with_its_plots_and_two_runs_compare()
    {
        using var data = TestData.Quadrants(train: 96, size: 8);
        using var dir = new TempDir();
        var easier = RunMethod("easier", dir["easier"], data);
        RunMethod("nepenthe", dir["nepenthe"], data);

        string report = File.ReadAllText(dir["easier/report.md"]);
        Assert.Contains("# easier on mlp / quadrants", report);
        Assert.Contains($"| 2 | 2/3 | {easier.Iterations[1].Top1.ToString("F2", System.Globalization.CultureInfo.InvariantCulture)} |", report);
        foreach (string plot in new[] { "top1", "depth", "entropy" })
        {
            Assert.Contains($"(plots/{plot}.png)", report);
            AssertPng(dir[$"easier/plots/{plot}.png"]);
        }
        Assert.DoesNotContain("sparsity.png", report);                  // nothing pruned
        Assert.Contains("(plots/sparsity.png)", File.ReadAllText(dir["nepenthe/report.md"]));
        AssertPng(dir["nepenthe/plots/sparsity.png"]);

        var (code, output, err) = Run("report", dir["easier"], dir["nepenthe"], "--out", dir["both"]);
        Assert.True(code == 0, err);
        Assert.Equal(dir["both/report.md"], output.Trim());
        string compared = File.ReadAllText(dir["both/report.md"]);
        Assert.Contains("| easier | easier | mlp |", compared);
        Assert.Contains("| nepenthe | nepenthe | mlp |", compared);
        AssertPng(dir["both/plots/top1.png"]);
        AssertPng(dir["both/plots/depth.png"]);
    }

    [Fact]
    public void Under_the_latency_objective_the_report_says_why_each_removal_was_chosen()
    {
        using var data = TestData.Quadrants(train: 96, size: 8);
        using var dir = new TempDir();
        var run = RunMethod("easier", dir["run"], data, RemovalObjective.Latency);
        Assert.Equal("macs", run.Payoff);
        string report = File.ReadAllText(dir["run/report.md"]);
        Assert.Contains("Why each removal (latency objective, saving counted in macs):", report);
        Assert.NotEmpty(run.Iterations);
        foreach (var i in run.Iterations)
        {
            Assert.NotNull(i.Reason);
            Assert.Contains($"* iteration {i.Iteration}: {string.Join(", ", i.NewlyRemoved)}: {i.Reason}", report);
        }
        RunMethod("easier", dir["entropy"], data);   // entropy alone decides: nothing to explain
        Assert.DoesNotContain("Why each removal", File.ReadAllText(dir["entropy/report.md"]));
    }

    [Fact]
    public void Folding_a_checkpoint_of_a_run_adds_the_fold_to_its_report()
    {
        using var data = TestData.Quadrants(train: 96, size: 8);
        using var dir = new TempDir();
        RunMethod("easier", dir["run"], data);
        using var loaded = Checkpoint.Load(dir["run/iter-2.ckpt"], Compute.Cpu);
        var fold = DepthPrune.Deployment.Deployer.Deploy(loaded.Model, data, new(DepthPrune.Folding.FoldPolicy.Depth, 32, 2), Compute.Cpu);
        Assert.Equal(dir["run/report.md"], FoldSummary.Record(dir["run/iter-2.ckpt"], "depth", fold));
        string report = File.ReadAllText(dir["run/report.md"]);
        Assert.Contains($"| iter-2.ckpt | depth | {fold.Original.Depth} -> {fold.Folded.Depth} |", report);
        AssertPng(dir["run/plots/fold.png"]);
        Assert.Null(FoldSummary.Record(dir["elsewhere.ckpt"], "depth", fold));   // a checkpoint outside a run has no report

        // The best checkpoint's fold, timed against the dense model, fills the comparison's deployed columns.
        var run = RunReport.Load(dir["run"]);
        Assert.Equal("iter-2.ckpt", Path.GetFileName(run.BestCheckpoint));
        FoldSummary.Record(dir["run/iter-2.ckpt"], "depth", fold with { VersusDense = [new("onnxruntime", 1, 2, 0.8, 0.5), new("onnxruntime", 64, 2, 9, 8)] });
        Assert.Equal(0, Run("report", dir["run"], dir["run"], "--out", dir["compared"]).Code);
        Assert.Contains($"| {run.TotalImagesTrained:N0} | {fold.Folded.Depth} | {fold.Folded.Macs:N0} | 0.625x |", File.ReadAllText(dir["compared/report.md"]));
    }

    [Fact]
    public void Report_refuses_what_is_not_a_run_by_name()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir["empty"]);
        var cases = new (string[] Args, string Message)[]
        {
            (["report", dir["none"]], $"{dir["none"]}: no such run folder"),
            (["report", dir["empty"]], $"{dir["empty"]}: no run.json"),
            (["report", dir["empty"], dir["empty"]], "--out: required when comparing several runs"),
        };
        foreach (var (args, message) in cases)
        {
            var (code, _, err) = Run(args);
            Assert.Equal(2, code);
            Assert.Contains(message, err);
        }
        File.WriteAllText(dir["empty/run.json"], "{ broken");
        var (badCode, _, badErr) = Run("report", dir["empty"]);
        Assert.Equal(1, badCode);
        Assert.Contains("run.json: not a run record", badErr);
    }
}
