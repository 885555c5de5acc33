using System.IO.Compression;
using System.Text;
using DepthPrune.Models;
using DepthPrune.Models.Import;
using DepthPrune.Runtime;
using DepthPrune.Training;
using static DepthPrune.Tests.Foundation.CliConventionTests;

namespace DepthPrune.Tests.Reliability;

/// <summary>Inputs built to hurt: code in a pickle, sizes that claim terabytes, nesting that
/// overflows recursive parsers. Each ends in a clear error naming the file, and nothing else happens.</summary>
public class HostileInputTests
{
    static string TinyCheckpoint(TempDir dir)
    {
        using var model = ModelZoo.Create("mlp", new ModelOptions(Classes: 4, InChannels: 1, Width: 0.0625, InputSize: 8));
        Checkpoint.Save(dir["m.ckpt"], model, new CheckpointMeta { Model = "mlp", ModelOptions = model.Options, Complete = true });
        return dir["m.ckpt"];
    }

    /// <summary>A copy of the checkpoint with one entry replaced.</summary>
    static string WithEntry(TempDir dir, string name, Action<Stream> write)
    {
        string copy = dir["hostile.ckpt"];
        File.Copy(TinyCheckpoint(dir), copy, overwrite: true);
        using var zip = ZipFile.Open(copy, ZipArchiveMode.Update);
        zip.GetEntry(name)!.Delete();
        using var s = zip.CreateEntry(name, CompressionLevel.Fastest).Open();
        write(s);
        return copy;
    }

    [Fact]
    public void A_pickle_that_calls_os_system_is_refused_and_nothing_runs()
    {
        using var dir = new TempDir();
        string marker = Path.Combine(Path.GetTempPath(), "depthprune-pwned");
        File.Delete(marker);
        // pickle.dumps({'fc.weight': P()}, protocol=2) where P reduces to posix.system('touch /tmp/depthprune-pwned')
        File.WriteAllBytes(dir["evil.pt"], Convert.FromHexString(
            "80027d7100580900000066632e776569676874710163706f7369780a73797374656d0a7102581b000000746f756368202f746d702f64657074687072756e652d70776e65647103857104527105732e"));
        var e = Assert.ThrowsAny<Exception>(() => StateDictFile.Read(dir["evil.pt"]));
        Assert.True(e is DataFormatException or UsageException, e.ToString());
        Assert.Contains("evil.pt", e.Message);
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public void A_pickle_nested_200000_lists_deep_is_refused_without_overflowing_the_stack()
    {
        using var dir = new TempDir();
        // torch.save's layout (a zip with archive/data.pkl) around a pickle of 200,000 nested lists.
        byte[] pickle = [0x80, 0x02, .. Enumerable.Repeat((byte)']', 200_000), .. Enumerable.Repeat((byte)'a', 199_999), (byte)'.'];
        using (var zip = ZipFile.Open(dir["deep.pt"], ZipArchiveMode.Create))
        {
            foreach (var (name, bytes) in new[] { ("archive/data.pkl", pickle), ("archive/version", "3\n"u8.ToArray()), ("archive/byteorder", "little"u8.ToArray()) })
                using (var s = zip.CreateEntry(name).Open()) s.Write(bytes);
        }
        var e = Assert.Throws<DataFormatException>(() => StateDictFile.Read(dir["deep.pt"]));
        Assert.Contains("deep.pt: not a readable state_dict", e.Message);
    }

    [Fact]
    public void A_safetensors_header_claiming_a_terabyte_tensor_is_refused_without_allocating_it()
    {
        using var dir = new TempDir();
        byte[] header = Encoding.UTF8.GetBytes("{\"fc.weight\":{\"dtype\":\"F32\",\"shape\":[1099511627776],\"data_offsets\":[0,4398046511104]}}");
        using (var f = File.Create(dir["huge.safetensors"]))
        {
            f.Write(BitConverter.GetBytes((ulong)header.Length));
            f.Write(header);
            f.Write(new byte[64]);
        }
        Exception? e = null;
        // The kernel's count of the process's resident memory, native allocations included (libtorch's too).
        long peakGrowth = ProcessMemory.PeakGrowthDuring(() => e = Record.Exception(() => StateDictFile.Read(dir["huge.safetensors"])));
        Assert.True(e is DataFormatException, e?.ToString());
        Assert.Contains("huge.safetensors", e!.Message);
        Assert.True(peakGrowth < 1L << 30, $"resident memory grew by {peakGrowth >> 20} MiB while reading");
    }

    /// <summary>The oracle above can fail: 256 MiB allocated natively and touched shows up in it.</summary>
    [Fact]
    public void The_resident_memory_oracle_sees_a_native_allocation()
    {
        long growth = ProcessMemory.PeakGrowthDuring(() =>
        {
            using var big = TorchSharp.torch.ones(64L << 20);   // 256 MiB of float32, written by libtorch
        });
        Assert.True(growth > 200L << 20, $"only {growth >> 20} MiB seen");
    }

    [Fact]
    public void A_checkpoint_entry_that_inflates_far_beyond_its_model_is_not_read()
    {
        using var dir = new TempDir();
        // 256 MiB of zeros compress to about 256 KiB: a small file that would fill memory.
        string bomb = WithEntry(dir, "model.bin", s => { var zeros = new byte[1 << 20]; for (int i = 0; i < 256; i++) s.Write(zeros); });
        Assert.True(new FileInfo(bomb).Length < 4 << 20);
        var e = Assert.Throws<DataFormatException>(() => Checkpoint.Load(bomb, Compute.Cpu));
        Assert.Contains("hostile.ckpt: entry model.bin holds more than", e.Message);
    }

    [Theory]
    [InlineData("mlp", int.MaxValue, 1, 1.0, 8, "classes 2147483647")]
    [InlineData("vgg16bn", 10, 3, 1.0, 1_000_000, "input size 1000000")]
    [InlineData("mlp", 10, 1_000_000, 1.0, 8, "input channels 1000000")]
    [InlineData("mlp", 10, 1, double.NaN, 8, "width")]
    public void Meta_json_declaring_an_enormous_model_is_refused_before_building_it(string model, int classes, int channels, double width, int size, string message)
    {
        using var dir = new TempDir();
        var meta = new CheckpointMeta { Model = model, ModelOptions = new ModelOptions(classes, channels, width, size), Complete = true };
        string json = System.Text.Json.JsonSerializer.Serialize(meta, new System.Text.Json.JsonSerializerOptions(Checkpoint.Json)
        {
            NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
        });
        string path = WithEntry(dir, "meta.json", s => s.Write(Encoding.UTF8.GetBytes(json)));
        var e = Assert.ThrowsAny<Exception>(() => Checkpoint.Load(path, Compute.Cpu));
        Assert.True(e is DataFormatException, e.ToString());
        Assert.Contains("hostile.ckpt", e.Message);
        Assert.Contains(message, e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("train", "--config")]
    [InlineData("sweep", "--grid")]
    public void Deeply_nested_or_oversized_yaml_is_refused_by_name(string command, string flag)
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["deep.yaml"], "model: " + new string('[', 100_000) + new string(']', 100_000));
        File.WriteAllText(dir["big.yaml"], "model: mlp\n# " + new string('x', 2 << 20) + "\n");
        foreach (var (file, message) in new[] { ("deep.yaml", "nested deeper than 16 levels"), ("big.yaml", "larger than 1024 KiB") })
        {
            var (code, _, err) = Run(command, flag, dir[file], "--out", dir["out"]);
            Assert.Equal(2, code);
            Assert.Contains($"{flag} {dir[file]}: {message}", err);
        }
    }
}
