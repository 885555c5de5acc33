using System.Text.Json;
using DepthPrune.Data;
using DepthPrune.Methods;
using DepthPrune.Models;
using DepthPrune.Runtime;
using DepthPrune.Tests.Training;
using DepthPrune.Training;
using static DepthPrune.Tests.Foundation.CliConventionTests;

namespace DepthPrune.Tests.Reliability;

/// <summary>Commands that used to finish with exit 0 and a wrong or misleading result: each is now
/// refused with one line naming the flag, or does what was asked.</summary>
public class SilentResultTests
{
    static string Checkpoint(TempDir dir, string name, string model, ModelOptions options, DataOptions? data = null)
    {
        using var zoo = ModelZoo.Create(model, options);
        DepthPrune.Training.Checkpoint.Save(dir[name], zoo, new CheckpointMeta { Model = model, ModelOptions = options, Data = data, Complete = true });
        return dir[name];
    }

    [Fact]
    public void A_model_flag_that_contradicts_the_checkpoint_is_refused()
    {
        using var dir = new TempDir();
        string lenet = Checkpoint(dir, "lenet.ckpt", "lenet5", new ModelOptions(Classes: 10, InChannels: 1, InputSize: 28));
        var (code, _, err) = Run("easier", "--checkpoint", lenet, "--model", "mlp", "--out", dir["e"]);
        Assert.Equal(2, code);
        Assert.Contains($"--model mlp: --checkpoint {lenet} holds lenet5", err);
        (code, _, err) = Run("easier", "--checkpoint", lenet, "--width", "0.5", "--out", dir["e"]);
        Assert.Equal(2, code);
        Assert.Contains("--width 0.5", err);
        Assert.False(Directory.Exists(dir["e"]) && Directory.EnumerateFiles(dir["e"]).Any(f => f.EndsWith(".ckpt")));
    }

    [Theory]
    [InlineData("train", "--out", "")]
    [InlineData("report", "--out", "FILE")]
    public void An_output_folder_that_is_empty_or_a_file_is_refused(string command, string flag, string value)
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["FILE"], "keep");
        string[] args = command == "report" ? ["report", dir.Path, flag, value == "FILE" ? dir["FILE"] : value] : [command, flag, value];
        var (code, _, err) = Run(args);
        Assert.Equal(2, code);
        Assert.Contains("--out", err);
        Assert.Equal("keep", File.ReadAllText(dir["FILE"]));
    }

    [Theory]
    [InlineData("--lr", "1e308")]
    [InlineData("--image-size", "100000")]
    public void Numbers_that_would_overflow_later_are_refused_while_parsing(string flag, string value)
    {
        var (code, _, err) = Run("train", flag, value, "--out", Path.Combine(Path.GetTempPath(), "never-written"));
        Assert.Equal(2, code);
        Assert.StartsWith($"depthprune: {flag} {value}:", err.Trim());
    }

    /// <summary>A run resumed by another method, or on another cut of the data (another validation
    /// split), would mix two runs under one record: both refused before anything is loaded.</summary>
    [Fact]
    public void Resume_refuses_another_method_and_another_data_cut()
    {
        using var data = TestData.Quadrants(train: 128, size: 8);
        using var dir = new TempDir();
        var setup = new MethodRunSetup
        {
            OutDir = dir.Path, Data = data, DataOptions = new DataOptions("quadrants", TrainSubset: 128), Compute = Compute.Cpu,
            CreateModel = () => ModelZoo.Create("mlp", new ModelOptions(Classes: 4, InChannels: 1, Width: 0.0625, InputSize: 8)),
            Pretrain = new TrainOptions { Epochs = 1, BatchSize = 32 },
            Options = new MethodOptions { Finetune = new TrainOptions { Epochs = 0 }, MaxIterations = 1, Tolerance = 100 },
        };
        MethodRun.Run(DepthMethod.Create("easier"), setup);

        var other = Assert.Throws<UsageException>(() => MethodRun.Run(DepthMethod.Create("nepenthe"), setup with { Resume = true }));
        Assert.Contains("is a easier run", other.Message);
        var cut = Assert.Throws<UsageException>(() => MethodRun.RefuseMismatchedResume("easier", setup with { Resume = true, DataOptions = setup.DataOptions with { TrainSubset = 64 } }));
        Assert.Contains("--train-subset 128", cut.Message);
        Assert.Contains("--train-subset 64", cut.Message);
        MethodRun.RefuseMismatchedResume("easier", setup with { DataOptions = setup.DataOptions with { Directory = "/elsewhere" } });   // only where the files lie: accepted
        Assert.Equal("easier", JsonDocument.Parse(File.ReadAllText(dir["run.json"])).RootElement.GetProperty("method").GetString());
    }

    [FashionMnistFact]
    public void A_model_that_does_not_fit_the_data_is_refused_by_flag()
    {
        using var dir = new TempDir();
        var (code, _, err) = Run("train", "--model", "lenet5", "--classes", "5", "--train-subset", "256", "--epochs", "1", "--out", dir["c"]);
        Assert.Equal(2, code);
        Assert.Contains("--classes 5: lenet5 would not fit --dataset fashion-mnist", err);
        (code, _, err) = Run("train", "--model", "lenet5", "--in-channels", "3", "--train-subset", "256", "--epochs", "1", "--out", dir["i"]);
        Assert.Equal(2, code);
        Assert.Contains("--in-channels 3", err);

        string five = Checkpoint(dir, "five.ckpt", "mlp", new ModelOptions(Classes: 5, InChannels: 1, Width: 0.0625, InputSize: 28));
        (code, _, err) = Run("fold", "--checkpoint", five, "--dataset", "fashion-mnist", "--train-subset", "256");
        Assert.Equal(2, code);
        Assert.Contains("10 classes, the checkpoint's model has 5 outputs", err);
    }

    [FashionMnistFact]
    public void Data_flags_apply_over_the_checkpoints_own_data_set()
    {
        using var dir = new TempDir();
        string c = Checkpoint(dir, "m.ckpt", "mlp", new ModelOptions(Classes: 10, InChannels: 1, Width: 0.0625, InputSize: 28),
            new DataOptions("fashion-mnist", TrainSubset: 1000, ValidationFraction: 0.1));
        var (code, output, err) = Run("entropy", "--checkpoint", c, "--train-subset", "200", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal(180, doc.RootElement.GetProperty("samples").GetInt32());
        Assert.Equal(20, doc.RootElement.GetProperty("held_out").GetInt32());
        (code, output, err) = Run("entropy", "--checkpoint", c);
        Assert.True(code == 0, err);
        Assert.StartsWith("fashion-mnist: 900 training images probed (100 held out for validation", output);
    }

    /// <summary>libtorch's errors carry a native stack of 15-30 lines in their message: one line is
    /// printed (what failed, and the hint for memory), the stack only with --verbose.</summary>
    [Fact]
    public void A_libtorch_error_is_one_line()
    {
        var oom = new System.Runtime.InteropServices.ExternalException(
            "[enforce fail at alloc_cpu.cpp:121] data. DefaultCPUAllocator: not enough memory: you tried to allocate 34359738368 bytes.\nframe #0: c10::ThrowEnforceNotMet\nframe #1: ...");
        string line = DepthPrune.Cli.CliApp.OneLine(oom);
        Assert.DoesNotContain("\n", line);
        Assert.Contains("ran out of memory", line);
        Assert.Contains("34359738368 bytes", line);
        var shape = new System.Runtime.InteropServices.ExternalException("Given input size: (32x1x1). Calculated output size: (32x0x0). Output size is too small\nException raised from pool2d_shape_check");
        Assert.Equal("libtorch: Given input size: (32x1x1). Calculated output size: (32x0x0). Output size is too small (--verbose shows its native stack)", DepthPrune.Cli.CliApp.OneLine(shape));
        Assert.Equal("plain", DepthPrune.Cli.CliApp.OneLine(new InvalidOperationException("plain")));
    }

    /// <summary>A resumed training continues its own schedule: another --epochs, --lr or --model typed
    /// on the resume is refused by name, and the same flags typed again are accepted.</summary>
    [FashionMnistFact]
    public void Resume_refuses_another_schedule_or_model_and_accepts_the_same()
    {
        using var dir = new TempDir();
        string[] job = ["train", "--model", "mlp", "--width", "0.0625", "--train-subset", "512", "--epochs", "2", "--checkpoint-every", "1", "--quiet", "--out", dir["t"]];
        using (var process = Foundation.ChildProcess.StartCli(job))
        {
            while (!process.HasExited && !File.Exists(dir["t/last.ckpt"])) Thread.Sleep(10);
            if (!process.HasExited) process.Kill();
            process.WaitForExit();
        }
        Assert.True(File.Exists(dir["t/last.ckpt"]));
        var (code, _, err) = Run([.. job.Select(a => a == "2" ? "3" : a), "--resume"]);
        Assert.Equal(2, code);
        Assert.Contains($"--epochs 3: --resume: {dir["t/last.ckpt"]} was started with --epochs 2", err);
        (code, _, err) = Run([.. job.Select(a => a == "mlp" ? "lenet5" : a), "--resume"]);
        Assert.Equal(2, code);
        Assert.Contains("--model lenet5", err);
        if (!File.Exists(dir["t/model.ckpt"]))
        {
            (code, _, err) = Run([.. job, "--resume"]);
            Assert.True(code == 0, err);
        }
    }
}
