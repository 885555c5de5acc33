using System.Diagnostics;
using System.Text.Json.Nodes;
using DepthPrune.Runtime;
using DepthPrune.Tests.Foundation;
using DepthPrune.Training;
using static DepthPrune.Tests.Foundation.CliConventionTests;

namespace DepthPrune.Tests.Reliability;

/// <summary>A method run killed with SIGKILL at several moments (whatever it is doing then: loading,
/// training, probing, writing a checkpoint or the report), resumed each time, ends with the run.json
/// of a run never interrupted; and nothing in its folder is ever half-written.</summary>
public class KillResumeTests
{
    static readonly string[] Job = ["nepenthe", "--model", "resnet18-cifar", "--width", "0.125", "--train-subset", "1000", "--pretrain-epochs", "2",
        "--finetune-epochs", "1", "--max-iterations", "2", "--tolerance", "100", "--checkpoint-every", "2", "--quiet"];

    static string Normalised(string runDir)
    {
        var root = JsonNode.Parse(File.ReadAllText(Path.Combine(runDir, "run.json")))!;
        void Strip(JsonNode? node)
        {
            if (node is JsonObject o) { o.Remove("seconds"); foreach (var (_, child) in o.ToList()) Strip(child); }
            else if (node is JsonArray a) foreach (var child in a) Strip(child);
        }
        Strip(root);
        return root.ToJsonString().Replace(runDir, "RUN");
    }

    /// <summary>Every file in the folder is whole: checkpoints load, JSON parses. A killed writer may
    /// leave its temp file (never under the real name); a resumed run removes those.</summary>
    static void AssertWhole(string runDir, bool allowTemp)
    {
        foreach (string file in Directory.GetFiles(runDir, "*", SearchOption.AllDirectories))
        {
            if (file.Contains(".tmp-")) { Assert.True(allowTemp, $"{file} left behind"); continue; }
            if (file.EndsWith(".ckpt")) Checkpoint.ReadMeta(file);
            if (file.EndsWith(".json")) JsonNode.Parse(File.ReadAllText(file));
        }
    }

    [FashionMnistFact]
    public void Killed_four_times_and_resumed_it_ends_as_an_uninterrupted_run()
    {
        using var dir = new TempDir();
        var (code, _, err) = Run([.. Job, "--out", dir["straight"]]);
        Assert.True(code == 0, err);

        int kills = 0;
        bool first = true;
        foreach (double seconds in new[] { 2.5, 4.0, 5.5, 7.0 })
        {
            using var process = ChildProcess.StartCli([.. Job, "--out", dir["killed"], .. first ? Array.Empty<string>() : ["--resume"]]);
            if (!process.WaitForExit(TimeSpan.FromSeconds(seconds)))
            {
                process.Kill();   // SIGKILL: no handler runs
                process.WaitForExit();
                kills++;
            }
            first = first && !File.Exists(dir["killed/current.ckpt"]);
            if (Directory.Exists(dir["killed"])) AssertWhole(dir["killed"], allowTemp: true);
        }
        Assert.True(kills >= 2, $"only {kills} kills landed");
        if (!File.Exists(dir["killed/run.json"]) || !RunFinished(dir["killed"]))
        {
            (code, _, err) = Run([.. Job, "--out", dir["killed"], .. File.Exists(dir["killed/current.ckpt"]) ? ["--resume"] : Array.Empty<string>()]);
            Assert.True(code == 0, err);
        }
        AssertWhole(dir["killed"], allowTemp: false);
        Assert.Equal(Normalised(dir["straight"]), Normalised(dir["killed"]));
    }

    static bool RunFinished(string runDir) => DepthPrune.Reporting.RunReport.Load(runDir).Finished;
}
