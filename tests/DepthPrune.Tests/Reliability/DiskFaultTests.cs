using DepthPrune.Models;
using DepthPrune.Runtime;
using DepthPrune.Training;
using static DepthPrune.Tests.Foundation.CliConventionTests;

namespace DepthPrune.Tests.Reliability;

/// <summary>An output folder that cannot be written or has no room is refused before work starts;
/// a write that fails part-way leaves the previous file whole and says which file.</summary>
public class DiskFaultTests
{
    [Theory]
    [InlineData("train", "--model", "mlp")]
    [InlineData("easier", "--model", "mlp")]
    [InlineData("demo")]
    public void An_output_folder_that_cannot_be_created_is_refused_by_name(params string[] command)
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["file"], "a file, not a folder");
        var (code, _, err) = Run([.. command, "--out", dir["file/run"]]);
        Assert.Equal(2, code);
        Assert.Contains($"--out {dir["file/run"]}: cannot be written", err);
    }

    [Fact]
    public void A_disk_without_room_for_the_checkpoints_is_refused_before_work()
    {
        using var dir = new TempDir();
        long free = RunFolder.FreeBytes(Path.GetFullPath(dir.Path));
        // Independent oracle: df's count of available bytes on the same file system (other writers
        // on the machine may move it a little between the two readings).
        var df = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("df", ["-B1", "--output=avail", dir.Path]) { RedirectStandardOutput = true })!;
        long dfFree = long.Parse(df.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries)[1].Trim());
        df.WaitForExit();
        Assert.InRange(free, dfFree - (64L << 20), dfFree + (64L << 20));
        var e = Assert.Throws<UsageException>(() => RunFolder.RequireRoom(dir["run"], free + (1L << 40)));
        Assert.Contains($"--out {dir["run"]}: {free >> 20:N0} MiB free", e.Message);
        RunFolder.RequireRoom(dir["run"], 1);   // and a modest need passes
        // The estimate covers what a checkpoint of the model really takes, for each one counted.
        using var model = ModelZoo.Create("resnet18-cifar", new ModelOptions(Classes: 10, Width: 0.5, InputSize: 32));
        Checkpoint.Save(dir["r.ckpt"], model, new CheckpointMeta { Model = model.Name, ModelOptions = model.Options });
        long one = new FileInfo(dir["r.ckpt"]).Length;
        Assert.True(ModelCost.RunBytes(model, 3) - ModelCost.RunBytes(model, 2) >= one, $"{ModelCost.RunBytes(model, 1)} vs {one}");
    }

    [Fact]
    public void A_write_that_fails_part_way_keeps_the_previous_checkpoint_loadable()
    {
        using var dir = new TempDir();
        using var model = ModelZoo.Create("mlp", new ModelOptions(Classes: 4, InChannels: 1, Width: 0.0625, InputSize: 8));
        Checkpoint.Save(dir["m.ckpt"], model, new CheckpointMeta { Model = "mlp", ModelOptions = model.Options, Complete = true });
        byte[] before = File.ReadAllBytes(dir["m.ckpt"]);
        var e = Assert.Throws<IOException>(() => AtomicFile.Write(dir["m.ckpt"], s =>
        {
            s.Write(new byte[4096]);
            throw new IOException("No space left on device");   // what a full disk raises mid-write
        }));
        Assert.Contains("No space left", e.Message);
        Assert.Equal(before, File.ReadAllBytes(dir["m.ckpt"]));
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp-*"));
        using var loaded = Checkpoint.Load(dir["m.ckpt"], Compute.Cpu);
        Assert.True(loaded.Meta.Complete);
    }
}
