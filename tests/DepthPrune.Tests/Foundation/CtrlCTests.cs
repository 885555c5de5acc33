using System.Diagnostics;
using static DepthPrune.Tests.Foundation.CliConventionTests;

namespace DepthPrune.Tests.Foundation;

public class CtrlCTests
{
    [FashionMnistFact]
    public void Ctrl_c_stops_at_a_checkpoint_says_how_to_resume_and_the_resume_finishes()
    {
        using var dir = new TempDir();
        string[] args = ["train", "--model", "resnet18-cifar", "--width", "0.125", "--train-subset", "4000", "--epochs", "2", "--out", dir["run"]];
        using var process = ChildProcess.StartCli(args);
        var stderr = new List<string>();
        bool sent = false;
        string? line;
        while ((line = process.StandardError.ReadLine()) is not null)
        {
            stderr.Add(line);
            if (!sent && line.StartsWith("model resnet18-cifar"))   // the command is running; it stops after its next batch
            {
                Process.Start("kill", ["-INT", process.Id.ToString()])!.WaitForExit();
                sent = true;
            }
        }
        process.WaitForExit();
        Assert.True(sent, string.Join("\n", stderr));
        Assert.Equal(130, process.ExitCode);
        string hint = stderr.Last();
        Assert.Contains($"checkpoint {dir["run/last.ckpt"]} saved", hint);
        Assert.Contains("continue with: depthprune train ", hint);
        Assert.False(File.Exists(dir["run/model.ckpt"]));

        var (code, _, err) = Run([.. args, "--resume", "--quiet"]);
        Assert.True(code == 0, err);
        Assert.True(File.Exists(dir["run/model.ckpt"]));

        // The oracle: the same command never interrupted ends with the same weights, bit for bit.
        (code, _, err) = Run([.. args[..^1], dir["plain"], "--quiet"]);
        Assert.True(code == 0, err);
        using var resumed = DepthPrune.Training.Checkpoint.Load(dir["run/model.ckpt"], DepthPrune.Runtime.Compute.Cpu);
        using var plain = DepthPrune.Training.Checkpoint.Load(dir["plain/model.ckpt"], DepthPrune.Runtime.Compute.Cpu);
        var expected = plain.Model.Net.state_dict();
        foreach (var (name, tensor) in resumed.Model.Net.state_dict())
            Assert.True(tensor.equal(expected[name]).all().item<bool>(), $"{name} differs from the uninterrupted run");
    }
}
