using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Serialization;
using DepthPrune.Data;
using DepthPrune.Models;
using DepthPrune.Pruning;
using DepthPrune.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace DepthPrune.Training;

/// <summary>What an activation slot was turned into, recorded so a checkpoint rebuilds the same graph.</summary>
public sealed record SlotState(SlotMode Mode, float[]? Mask, float[]? Alive = null);

/// <summary>The readable part of a checkpoint (meta.json inside the file).</summary>
public sealed record CheckpointMeta
{
    public const int CurrentFormat = 1;
    public int Format { get; init; } = CurrentFormat;
    public required string Model { get; init; }
    public required ModelOptions ModelOptions { get; init; }
    public Dictionary<string, SlotState> Slots { get; init; } = new();
    public DataOptions? Data { get; init; }
    public TrainOptions? Train { get; init; }
    /// <summary>Where training resumes: the next epoch and batch to run.</summary>
    public int Epoch { get; init; }
    public int Batch { get; init; }
    public bool Complete { get; init; }
    public string Stage { get; init; } = "train";
    public JsonElement? MethodState { get; init; }
    public Dictionary<string, double> Metrics { get; init; } = new();
}

/// <summary>A single-file checkpoint (a zip of meta.json, weights, masks, optimizer and RNG
/// state), written atomically so a crash never leaves a half-written file.</summary>
public static class Checkpoint
{
    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public static Dictionary<string, SlotState> SlotStates(ZooModel model) =>
        model.Slots.Where(s => s.Value.Mode != SlotMode.Nonlinear || s.Value.Alive is not null)
            .ToDictionary(s => s.Key, s => new SlotState(s.Value.Mode, s.Value.Mask, s.Value.Alive));

    /// <summary>Restores removed, masked, thinned or PReLU activations (before weights are loaded:
    /// a PReLU slot owns a slope parameter).</summary>
    public static void ApplySlotStates(ZooModel model, IReadOnlyDictionary<string, SlotState> slots, string source, Device device)
    {
        foreach (var (name, state) in slots)
        {
            if (!model.Slots.TryGetValue(name, out var slot))
                throw new DataFormatException($"{source}: slot '{name}' does not exist in {model.Name}");
            switch (state.Mode)
            {
                case SlotMode.Identity: slot.SetIdentity(); break;
                case SlotMode.ChannelMask: slot.SetChannelMask(state.Mask ?? throw new DataFormatException($"{source}: slot '{name}' has no mask")); break;
                case SlotMode.PReLU: slot.SetPReLU(0, device); break;
                default: slot.SetAlive(state.Alive); break;
            }
        }
    }

    public static void Save(string path, ZooModel model, CheckpointMeta meta, PruningMasks? masks = null, optim.Optimizer? optimizer = null)
    {
        meta = meta with { Slots = SlotStates(model) };
        AtomicFile.Write(path, stream =>
        {
            using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
            Entry(zip, "meta.json", s => JsonSerializer.Serialize(s, meta, Json));
            Entry(zip, "model.bin", s => model.Net.save(s));
            if (model.OnnxSource is { } graph) Entry(zip, GraphEntry, s => s.Write(graph));
            if (masks is not null) Entry(zip, "masks.bin", s => { using var w = new BinaryWriter(s, System.Text.Encoding.UTF8, true); masks.Save(w); });
            if (optimizer is TorchSharp.Modules.OptimizerHelper helper) Entry(zip, "optimizer.bin", s => { using var w = new BinaryWriter(s, System.Text.Encoding.UTF8, true); helper.save_state_dict(w); });
            Entry(zip, "rng.bin", s => { using var w = new BinaryWriter(s, System.Text.Encoding.UTF8, true); using var rng = torch.get_rng_state(); rng.Save(w); });
        });
    }

    static void Entry(ZipArchive zip, string name, Action<Stream> write)
    {
        using var entry = zip.CreateEntry(name, CompressionLevel.Fastest).Open();
        write(entry);
    }

    public sealed class Loaded : IDisposable
    {
        public required ZooModel Model { get; init; }
        public required CheckpointMeta Meta { get; init; }
        public PruningMasks? Masks { get; init; }
        public byte[]? OptimizerState { get; init; }
        public byte[]? RngState { get; init; }

        /// <summary>Restores the torch generator to where the checkpoint was written.</summary>
        public void RestoreRng()
        {
            if (RngState is null) return;
            using var reader = new BinaryReader(new MemoryStream(RngState));
            using var state = TensorExtensionMethods.Load(reader);
            torch.set_rng_state(state);
        }

        public void RestoreOptimizer(optim.Optimizer optimizer)
        {
            if (OptimizerState is null || optimizer is not TorchSharp.Modules.OptimizerHelper helper) return;
            using var reader = new BinaryReader(new MemoryStream(OptimizerState));
            helper.load_state_dict(reader);
        }

        public void Dispose() { Model.Dispose(); Masks?.Dispose(); }
    }

    /// <summary>An imported network's ONNX file, kept so the checkpoint rebuilds it on its own.</summary>
    const string GraphEntry = "graph.onnx";
    const long GraphLimit = 2L << 30;   // protobuf's own ceiling

    public static CheckpointMeta ReadMeta(string path) => Open(path, zip => ReadMeta(zip, path));

    public static Loaded Load(string path, Compute compute) => Open(path, zip =>
    {
        CheckpointMeta meta = ReadMeta(zip, path);
        ZooModel model;
        try
        {
            model = zip.GetEntry(GraphEntry) is { } graph
                ? Models.Graph.OnnxImport.FromBytes(Buffer(graph, path, GraphLimit).ToArray(), meta.Model.StartsWith("onnx:") ? meta.Model["onnx:".Length..] : meta.Model, meta.ModelOptions.InputSize, meta.ModelOptions.Classes)
                : ModelZoo.Create(meta.Model, meta.ModelOptions);
        }
        catch (UsageException e) { throw new DataFormatException($"{path}: meta.json describes no model this version builds ({e.Message})"); }
        try
        {
            ApplySlotStates(model, meta.Slots, path, compute.Device);
            model.Net.to(compute.Device);
            // No entry of a checkpoint of this model is larger than a few copies of its state
            // (weights, masks, optimizer moments): a bigger one is damaged or hostile, and is not read.
            long limit = (1L << 26) + 8 * ModelCost.StateBytes(model);
            using (var weights = OpenEntry(zip, "model.bin", path, limit))
                model.Net.load(weights, strict: true);
            PruningMasks? masks = null;
            if (zip.GetEntry("masks.bin") is { } maskEntry)
            {
                using var reader = new BinaryReader(Buffer(maskEntry, path, limit));
                masks = PruningMasks.Load(reader, model, compute.Device);
            }
            return new Loaded
            {
                Model = model, Meta = meta, Masks = masks,
                OptimizerState = zip.GetEntry("optimizer.bin") is { } o ? Buffer(o, path, limit).ToArray() : null,
                RngState = zip.GetEntry("rng.bin") is { } r ? Buffer(r, path, limit).ToArray() : null,
            };
        }
        catch
        {
            model.Dispose();
            throw;
        }
    });

    static T Open<T>(string path, Func<ZipArchive, T> read)
    {
        if (!File.Exists(path)) throw new UsageException($"--checkpoint {path}: file not found");
        try
        {
            using var zip = ZipFile.OpenRead(path);
            return read(zip);
        }
        // What damaged bytes raise in the zip, JSON and tensor readers (BinaryReader: FormatException, IOException).
        catch (Exception e) when (e is InvalidDataException or IOException or FormatException or OverflowException or JsonException or ArgumentException)
        {
            throw new DataFormatException($"{path}: not a readable DepthPrune checkpoint ({e.Message})");
        }
    }

    static CheckpointMeta ReadMeta(ZipArchive zip, string path)
    {
        using var stream = OpenEntry(zip, "meta.json", path, MetaLimit);
        var meta = JsonSerializer.Deserialize<CheckpointMeta>(stream, Json) ?? throw new DataFormatException($"{path}: empty meta.json");
        if (meta.Format != CheckpointMeta.CurrentFormat)
            throw new DataFormatException($"{path}: checkpoint format {meta.Format}, this version reads {CheckpointMeta.CurrentFormat}");
        return meta;
    }

    const long MetaLimit = 64L << 20;   // meta.json: slot masks of the widest models fit many times over

    static MemoryStream OpenEntry(ZipArchive zip, string name, string path, long limit) =>
        Buffer(zip.GetEntry(name) ?? throw new DataFormatException($"{path}: checkpoint has no {name}"), path, limit);

    /// <summary>Reads an entry into memory, refusing one that declares or inflates to more than the
    /// limit (a zip entry can claim, or decompress to, far more than its compressed size).</summary>
    static MemoryStream Buffer(ZipArchiveEntry entry, string path, long limit)
    {
        string tooLarge = $"{path}: entry {entry.FullName} holds more than {limit:N0} bytes, more than a checkpoint of this model can; damaged or not a DepthPrune checkpoint";
        if (entry.Length > limit) throw new DataFormatException(tooLarge);
        var memory = new MemoryStream();
        using (var s = entry.Open())
        {
            var chunk = new byte[1 << 16];
            int n;
            while ((n = s.Read(chunk)) > 0)
            {
                if (memory.Length + n > limit) throw new DataFormatException(tooLarge);
                memory.Write(chunk, 0, n);
            }
        }
        memory.Position = 0;
        return memory;
    }
}
