using System.Collections;
using DepthPrune.Runtime;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace DepthPrune.Models.Import;

/// <summary>PyTorch state_dicts with torchvision's names: `torch.save`d .pt/.pth files (via
/// TorchSharp.PyBridge's unpickler) and .safetensors. Import reports missing, unexpected and
/// mis-shaped keys; a strict import refuses anything incomplete and changes nothing then.</summary>
public static class StateDictFile
{
    public static Dictionary<string, Tensor> Read(string path)
    {
        if (!File.Exists(path)) throw new UsageException($"--weights {path}: file not found");
        try
        {
            return Path.GetExtension(path).ToLowerInvariant() switch
            {
                ".safetensors" => Safetensors.LoadStateDict(path),
                ".pt" or ".pth" or ".bin" => PyTorchUnpickler.UnpickleStateDict(path).Cast<DictionaryEntry>()
                    .Where(e => e.Value is Tensor).ToDictionary(e => (string)e.Key, e => (Tensor)e.Value!),
                var other => throw new UsageException($"--weights {path}: unknown extension '{other}'; expected .pt, .pth or .safetensors"),
            };
        }
        catch (Exception e) when (e is not UsageException)
        {
            throw new DataFormatException($"{path}: not a readable state_dict ({e.Message})");
        }
    }

    public static void Write(ZooModel model, string path)
    {
        var state = model.Net.state_dict();
        AtomicFile.Write(path, stream =>
        {
            if (Path.GetExtension(path).Equals(".safetensors", StringComparison.OrdinalIgnoreCase))
                Safetensors.SaveStateDict(stream, state, leaveOpen: true);
            else
                PyTorchPickler.PickleStateDict(stream, state, leaveOpen: true);
        });
    }

    /// <summary>Copies matching tensors into the model. Keys starting with an ignored prefix
    /// (e.g. "fc." for a new classifier) are left out on both sides.</summary>
    public static ImportReport Apply(ZooModel model, IReadOnlyDictionary<string, Tensor> weights, string source,
        IReadOnlyList<string>? ignore = null, bool strict = true)
    {
        bool Ignored(string key) => ignore?.Any(key.StartsWith) == true;
        var target = model.Net.state_dict();
        var missing = target.Keys.Where(k => !Ignored(k) && !weights.ContainsKey(k)).ToList();
        var unexpected = weights.Keys.Where(k => !Ignored(k) && !target.ContainsKey(k)).ToList();
        var mismatched = target.Keys.Where(k => !Ignored(k) && weights.TryGetValue(k, out var w) && !w.shape.SequenceEqual(target[k].shape))
            .Select(k => $"{k} [{string.Join(",", weights[k].shape)}] vs model [{string.Join(",", target[k].shape)}]").ToList();
        var matched = target.Keys.Where(k => !Ignored(k) && weights.TryGetValue(k, out var w) && w.shape.SequenceEqual(target[k].shape)).ToList();
        var report = new ImportReport(source, strict && (missing.Count + unexpected.Count + mismatched.Count) > 0 ? 0 : matched.Count, missing, unexpected, mismatched);
        if (strict && !report.Complete) throw new DataFormatException(report.Describe());
        foreach (string key in matched)
            if (weights[key].is_floating_point() && !weights[key].isfinite().all().item<bool>())
                throw new DataFormatException($"{source}: {key} holds NaN or infinite values");
        using (no_grad())
            foreach (string key in matched)
                target[key].copy_(weights[key].to(target[key].dtype).to(target[key].device));
        return report;
    }
}
