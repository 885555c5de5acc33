using System.Text.Json;
using DepthPrune.Models;
using DepthPrune.Runtime;

namespace DepthPrune.Training;

/// <summary>What a state_dict cannot hold: which activations a method removed (Identity), masked,
/// thinned or turned into PReLU. `weights export` writes them beside the weights as FILE.slots.json
/// and `weights import` restores them, so an exported pruned model is the same network.</summary>
public static class StructuralEdits
{
    public static string SidecarPath(string weightsPath) => weightsPath + ".slots.json";

    /// <summary>Writes the sidecar when the model has edits, and removes a stale one when it has none.
    /// Returns the number of edited slots.</summary>
    public static int Write(ZooModel model, string weightsPath)
    {
        var slots = Checkpoint.SlotStates(model);
        string sidecar = SidecarPath(weightsPath);
        if (slots.Count == 0)
        {
            File.Delete(sidecar);
            return 0;
        }
        AtomicFile.WriteText(sidecar, JsonSerializer.Serialize(new Sidecar(model.Name, slots), Checkpoint.Json));
        return slots.Count;
    }

    /// <summary>The edits stored beside a weight file, or none when there is no sidecar.</summary>
    public static IReadOnlyDictionary<string, SlotState> Read(string weightsPath, ZooModel model)
    {
        string sidecar = SidecarPath(weightsPath);
        if (!File.Exists(sidecar)) return new Dictionary<string, SlotState>();
        Sidecar? read;
        try { read = JsonSerializer.Deserialize<Sidecar>(File.ReadAllText(sidecar), Checkpoint.Json); }
        catch (JsonException e) { throw new DataFormatException($"{sidecar}: not a slot-edit file ({e.Message})"); }
        if (read is null) throw new DataFormatException($"{sidecar}: empty");
        if (read.Model != model.Name)
            throw new UsageException($"--model {model.Name}: {sidecar} was written for {read.Model}");
        return read.Slots;
    }

    sealed record Sidecar(string Model, Dictionary<string, SlotState> Slots);
}
