using System.Buffers.Binary;
using DepthPrune.Data;
using DepthPrune.Methods;
using DepthPrune.Models;
using DepthPrune.Models.Import;
using DepthPrune.Reporting;
using DepthPrune.Runtime;
using DepthPrune.Tests.Data;
using DepthPrune.Training;

namespace DepthPrune.Tests.Reliability;

/// <summary>Every reader fed seeded damage (truncation, flipped bytes, inserted bytes, huge declared
/// sizes): each read either succeeds or ends in a DataFormatException or UsageException that names
/// the file, within seconds; never another exception, a hang, or an allocation of a declared size.
/// 60 damaged files per reader here; bench/fuzz runs many more (DEPTHPRUNE_FUZZ_MUTATIONS).</summary>
public class ReaderFuzzTests
{
    /// <summary>60, or more from the environment; fewer would leave the fuzz tests testing nothing.</summary>
    static readonly int Mutations = Math.Max(60, int.TryParse(Environment.GetEnvironmentVariable("DEPTHPRUNE_FUZZ_MUTATIONS"), out int n) ? n : 60);

    /// <summary>A damaged copy of `valid`: one of four kinds of damage, chosen and placed by the seed.</summary>
    internal static byte[] Mutate(byte[] valid, int seed)
    {
        var random = new Random(seed);
        var bytes = valid.ToList();
        switch (seed % 4)
        {
            case 0: return valid[..random.Next(valid.Length)];                                   // truncated
            case 1: for (int i = 0; i < 1 + random.Next(8); i++) bytes[random.Next(bytes.Count)] ^= (byte)(1 + random.Next(255)); break;
            case 2: bytes.InsertRange(random.Next(bytes.Count), Enumerable.Range(0, 1 + random.Next(16)).Select(_ => (byte)random.Next(256))); break;
            default:                                                                               // a huge size where a size may sit
                int at = random.Next(Math.Max(1, bytes.Count - 4));
                byte[] huge = new byte[4];
                BinaryPrimitives.WriteInt32BigEndian(huge, random.Next(2) == 0 ? int.MaxValue : 0x7fff_0000 + random.Next(0xffff));
                for (int i = 0; i < 4 && at + i < bytes.Count; i++) bytes[at + i] = random.Next(2) == 0 ? huge[i] : huge[3 - i];
                break;
        }
        return [.. bytes];
    }

    static void Fuzz(string name, byte[] valid, string path, Action read) => Fuzz(name, path, seed => Mutate(valid, seed), read);

    /// <summary>Writes each seed's damaged file to path and reads it: every read must succeed or end in
    /// a named DataFormatException/UsageException within 20 s.</summary>
    internal static void Fuzz(string name, string path, Func<int, byte[]> damaged, Action read)
    {
        var failures = new List<string>();
        for (int seed = 0; seed < Mutations; seed++)
        {
            File.WriteAllBytes(path, damaged(seed));
            var attempt = Task.Run(() =>
            {
                try { read(); return null; }
                catch (Exception e) when (e is DataFormatException or UsageException)
                {
                    return e.Message.Contains(Path.GetFileName(path)) ? null : $"seed {seed}: message does not name the file: {e.Message}";
                }
                catch (Exception e) { return $"seed {seed}: {e.GetType().Name}: {e.Message}"; }
            });
            if (!attempt.Wait(TimeSpan.FromSeconds(20))) { failures.Add($"seed {seed}: no answer in 20 s"); break; }
            if (attempt.Result is { } failure) failures.Add(failure);
        }
        Assert.True(failures.Count == 0, $"{name}: {failures.Count} of {Mutations} damaged files handled badly:\n" + string.Join("\n", failures.Take(8)));
    }

    [Fact]
    public void Idx_images_and_labels()
    {
        using var dir = new TempDir();
        SyntheticFiles.WriteIdx(dir["train-images-idx3-ubyte"], dir["train-labels-idx1-ubyte"], 20, 4, 4, false);
        byte[] images = File.ReadAllBytes(dir["train-images-idx3-ubyte"]), labels = File.ReadAllBytes(dir["train-labels-idx1-ubyte"]);
        string[] classes = Enumerable.Range(0, 256).Select(i => i.ToString()).ToArray();
        Fuzz("IDX images", images, dir["train-images-idx3-ubyte"], () => IdxReader.Read(dir["train-images-idx3-ubyte"], dir["train-labels-idx1-ubyte"], classes).Dispose());
        File.WriteAllBytes(dir["train-images-idx3-ubyte"], images);
        Fuzz("IDX labels", labels, dir["train-labels-idx1-ubyte"], () => IdxReader.Read(dir["train-images-idx3-ubyte"], dir["train-labels-idx1-ubyte"], classes).Dispose());
    }

    [Fact]
    public void Gzipped_idx()
    {
        using var dir = new TempDir();
        SyntheticFiles.WriteIdx(dir["i.gz"], dir["l.gz"], 20, 4, 4, true);
        string[] classes = Enumerable.Range(0, 256).Select(i => i.ToString()).ToArray();
        Fuzz("gzip IDX", File.ReadAllBytes(dir["i.gz"]), dir["i.gz"], () => IdxReader.Read(dir["i.gz"], dir["l.gz"], classes).Dispose());
    }

    [Fact]
    public void Cifar_binary_batch()
    {
        using var dir = new TempDir();
        SyntheticFiles.WriteCifarBatch(dir["data_batch_1.bin"], 5, 0);
        Fuzz("CIFAR batch", File.ReadAllBytes(dir["data_batch_1.bin"]), dir["data_batch_1.bin"],
            () => CifarBinaryReader.Read([dir["data_batch_1.bin"]], CifarBinaryReader.DefaultClasses).Dispose());
    }

    [Fact]
    public void Checkpoint_zip()
    {
        using var dir = new TempDir();
        Seeding.Seed(1);   // the same valid bytes every run, so a seed names the same damaged file
        using (var model = ModelZoo.Create("mlp", new ModelOptions(Classes: 4, InChannels: 1, Width: 0.0625, InputSize: 8)))
        {
            model.Slots["relu2"].SetIdentity();
            Checkpoint.Save(dir["m.ckpt"], model, new CheckpointMeta { Model = "mlp", ModelOptions = model.Options, Complete = true });
        }
        Fuzz("checkpoint", File.ReadAllBytes(dir["m.ckpt"]), dir["m.ckpt"], () => Checkpoint.Load(dir["m.ckpt"], Compute.Cpu).Dispose());
    }

    [Fact]
    public void State_dicts()
    {
        using var dir = new TempDir();
        Seeding.Seed(1);
        using var model = ModelZoo.Create("mlp", new ModelOptions(Classes: 4, InChannels: 1, Width: 0.0625, InputSize: 8));
        foreach (string file in new[] { "w.safetensors", "w.pt" })
        {
            StateDictFile.Write(model, dir[file]);
            Fuzz(file, File.ReadAllBytes(dir[file]), dir[file], () =>
            {
                foreach (var t in StateDictFile.Read(dir[file]).Values) t.Dispose();
            });
        }
    }

    [Fact]
    public void Image_folder_tree()
    {
        using var dir = new TempDir();
        foreach (string c in new[] { "cat", "dog" })
            for (int i = 0; i < 3; i++) SyntheticFiles.WritePng(dir[$"{c}/{i}.png"], 8, 8, (byte)(40 * i), 100, 200);
        Fuzz("PNG in an image tree", File.ReadAllBytes(dir["cat/0.png"]), dir["cat/0.png"],
            () => ImageFolderReader.ReadClassFolders(dir.Path, ["cat", "dog"], null).Dispose());
    }

    [Fact]
    public void Onnx_import()
    {
        using var dir = new TempDir();
        using var model = Models.WeightImportTests.ExportedLeNet(dir["m.onnx"]);
        Fuzz("ONNX", File.ReadAllBytes(dir["m.onnx"]), dir["m.onnx"], () => OnnxConvBnImport.Apply(model, dir["m.onnx"], ignore: ["fc"]));
    }

    [Fact]
    public void Run_record()
    {
        using var dir = new TempDir();
        var run = new RunRecord { Method = "easier", Model = "mlp", Dataset = "quadrants", Iterations = [new IterationRecord { Iteration = 1, Removed = 1, Total = 3 }] };
        File.WriteAllText(dir["run.json"], System.Text.Json.JsonSerializer.Serialize(run, Checkpoint.Json));
        Fuzz("run.json", File.ReadAllBytes(dir["run.json"]), dir["run.json"], () => RunReport.Load(dir.Path));
    }

    [Fact]
    public void Config_files_through_the_command_line()
    {
        using var dir = new TempDir();
        // --out holds a run already, so even a config that survives damage stops before any work.
        Directory.CreateDirectory(dir["run"]);
        File.WriteAllText(dir["run/last.ckpt"], "");
        byte[] valid = System.Text.Encoding.UTF8.GetBytes("model: mlp\nwidth: 0.25\nepochs: 2\nmilestones: [1]\nnesterov: true\nlr: 0.05\n");
        var failures = new List<string>();
        for (int seed = 0; seed < Mutations; seed++)
        {
            File.WriteAllBytes(dir["c.yaml"], Mutate(valid, seed));
            var (code, output, err) = Foundation.CliConventionTests.Run("train", "--config", dir["c.yaml"], "--out", dir["run"]);
            if (code != 2 || err.Trim().Split('\n').Length != 1 || err.Contains("   at ") || output.Length > 0)
                failures.Add($"seed {seed}: exit {code}: {err}");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(8)));
    }
}
