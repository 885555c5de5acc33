using DepthPrune.Data;
using DepthPrune.Models;
using DepthPrune.Training;
using static DepthPrune.Tests.Foundation.CliConventionTests;

namespace DepthPrune.Tests.Foundation;

/// <summary>File and folder flags: what is missing, a folder where a file belongs, or an output of
/// the wrong kind is refused by name before any work starts.</summary>
public class CliPathTests
{
    static string LeNetCheckpoint(TempDir dir)
    {
        using var model = ModelZoo.Create("lenet5", new ModelOptions(Classes: 10, InChannels: 1, InputSize: 28));
        string path = dir["lenet.ckpt"];
        Checkpoint.Save(path, model, new CheckpointMeta
        {
            Model = "lenet5", ModelOptions = model.Options, Complete = true, Data = new DataOptions("fashion-mnist"),
        });
        return path;
    }

    [Fact]
    public void Bad_paths_are_usage_errors_that_name_the_flag()
    {
        using var dir = new TempDir();
        string ckpt = LeNetCheckpoint(dir);
        var cases = new (string[] Args, string Message)[]
        {
            (["fold", "--checkpoint", dir.Path], $"--checkpoint {dir.Path}: is a folder; expected a file"),
            (["entropy", "--checkpoint", dir["none.ckpt"]], $"--checkpoint {dir["none.ckpt"]}: no such file"),
            (["fold", "--checkpoint", ckpt, "--onnx", dir.Path], $"--onnx {dir.Path}: is a folder; expected a file name"),
            (["fold", "--checkpoint", ckpt, "--onnx", dir["m.txt"]], $"--onnx {dir["m.txt"]}: expected a .onnx file name"),
            (["fold", "--checkpoint", ckpt, "--data", dir["nowhere"]], $"--data {dir["nowhere"]}: no such folder"),
            (["fold", "--checkpoint", ckpt, "--data", ckpt], $"--data {ckpt}: is a file; expected a folder"),
            (["weights", "import", "--weights", dir["w.pt"], "--out", dir["x.ckpt"]], $"--weights {dir["w.pt"]}: no such file"),
            (["weights", "import", "--weights", ckpt, "--out", dir.Path], $"--out {dir.Path}: is a folder; expected a file name"),
            (["weights", "export", "--checkpoint", ckpt, "--out", dir["w.bin"]], $"--out {dir["w.bin"]}: expected a .pt, .pth, .safetensors file name"),
            (["easier", "--checkpoint", dir.Path, "--out", dir["run"]], $"--checkpoint {dir.Path}: is a folder; expected a file"),
        };
        foreach (var (args, message) in cases)
        {
            var (code, _, err) = Run(args);
            Assert.True(code == 2, $"{string.Join(" ", args)}: exit {code}: {err}");
            Assert.Contains(message, err);
            Assert.Single(err.Trim().Split('\n'));
        }
        Assert.False(File.Exists(dir["x.ckpt"]));
    }

    [Fact]
    public void Data_is_read_from_the_given_folder_even_when_the_data_set_comes_from_the_checkpoint()
    {
        using var dir = new TempDir();
        string ckpt = LeNetCheckpoint(dir);
        Directory.CreateDirectory(dir["empty"]);
        var (code, _, err) = Run("entropy", "--checkpoint", ckpt, "--data", dir["empty"]);
        Assert.Equal(1, code);
        Assert.Contains(dir["empty"], err);   // the IDX reader names the folder it looked in
    }

    [FashionMnistFact]
    public void A_checkpoint_whose_input_does_not_fit_the_data_set_is_refused_by_name()
    {
        using var dir = new TempDir();
        using (var model = ModelZoo.Create("resnet18-cifar", new ModelOptions(Classes: 10, InChannels: 3, InputSize: 32, Width: 0.125)))
            Checkpoint.Save(dir["rgb.ckpt"], model, new CheckpointMeta { Model = "resnet18-cifar", ModelOptions = model.Options, Complete = true });
        foreach (string command in new[] { "entropy", "fold" })
        {
            var (code, _, err) = Run(command, "--checkpoint", dir["rgb.ckpt"], "--dataset", "fashion-mnist");
            Assert.Equal(2, code);
            Assert.Contains("--dataset fashion-mnist: images are [1,28,28], the checkpoint's model takes [3,32,32]", err);
        }
    }
}
