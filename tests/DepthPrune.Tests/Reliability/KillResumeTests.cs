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
    public void Killed_at_four_points_and_resumed_it_ends_as_an_uninterrupted_run()
    {
        using var dir = new TempDir();
        var (code, _, err) = Run([.. Job, "--out", dir["straight"]]);
        Assert.True(code == 0, err);

        // Kill points by what the run has written, not by the clock: mid-pretraining (its first
        // checkpoint), once the dense model is saved, after iteration 1, and after iteration 2.
        string[] killAt = ["current.ckpt", "dense.ckpt", "iter-1.ckpt", "iter-2.ckpt"];
        var landed = new List<string>();
        foreach (string marker in killAt)
        {
            bool resume = File.Exists(dir["killed/current.ckpt"]);
            using var process = ChildProcess.StartCli([.. Job, "--out", dir["killed"], .. resume ? ["--resume"] : Array.Empty<string>()]);
            while (!process.HasExited && !File.Exists(Path.Combine(dir["killed"], marker))) Thread.Sleep(10);
            if (!process.HasExited)
            {
                process.Kill();   // SIGKILL: no handler runs
                landed.Add(marker);
            }
            process.WaitForExit();
            AssertWhole(dir["killed"], allowTemp: true);
        }
        Assert.Equal(killAt, landed);
        if (!File.Exists(dir["killed/run.json"]) || !RunFinished(dir["killed"]))
        {
            (code, _, err) = Run([.. Job, "--out", dir["killed"], .. File.Exists(dir["killed/current.ckpt"]) ? ["--resume"] : Array.Empty<string>()]);
            Assert.True(code == 0, err);
        }
        AssertWhole(dir["killed"], allowTemp: false);
        Assert.Equal(Methods.RunJson.Normalised(dir["straight"]), Methods.RunJson.Normalised(dir["killed"]));
    }

    static bool RunFinished(string runDir) => DepthPrune.Reporting.RunReport.Load(runDir).Finished;

    [FashionMnistFact]
    public void A_fold_killed_while_it_measures_or_writes_onnx_never_leaves_a_partial_model()
    {
        using var dir = new TempDir();
        Seeding.Seed(3);
        using (var model = DepthPrune.Models.ModelZoo.Create("resnet18-cifar", new DepthPrune.Models.ModelOptions(Classes: 10, InChannels: 1, Width: 0.125, InputSize: 28)))
        {
            model.Slots["layer1.0.relu1"].SetIdentity();
            Checkpoint.Save(dir["m.ckpt"], model, new CheckpointMeta { Model = model.Name, ModelOptions = model.Options, Complete = true, Data = new DepthPrune.Data.DataOptions("fashion-mnist") });
        }
        int kills = 0;
        foreach (double seconds in new[] { 1.5, 2.5, 3.5, 4.5 })
        {
            using var process = ChildProcess.StartCli("fold", "--checkpoint", dir["m.ckpt"], "--policy", "depth", "--onnx", dir["m.onnx"]);
            if (!process.WaitForExit(TimeSpan.FromSeconds(seconds))) { process.Kill(); process.WaitForExit(); kills++; }
            if (File.Exists(dir["m.onnx"]))
                using (var session = new Microsoft.ML.OnnxRuntime.InferenceSession(dir["m.onnx"])) Assert.Single(session.InputMetadata);
            File.Delete(dir["m.onnx"]);
        }
        Assert.True(kills >= 1, "no kill landed");
    }
}
