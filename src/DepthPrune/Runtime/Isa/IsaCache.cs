using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace DepthPrune.Runtime.Isa;

/// <summary>Verdicts of the conv check, one per (CPU, libtorch, geometry set, thread count), in one
/// JSON file under the user's cache folder, so only the first run on a machine pays for the check.</summary>
public sealed class IsaCache(string directory)
{
    public const string DirectoryVariable = "DEPTHPRUNE_CACHE_DIR";
    public string File => Path.Combine(directory, "onednn-isa.json");

    public static IsaCache Default() => new(DefaultDirectory());

    static string DefaultDirectory()
    {
        if (Environment.GetEnvironmentVariable(DirectoryVariable) is { Length: > 0 } own) return own;
        if (Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg) return Path.Combine(xdg, "depthprune");
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return string.IsNullOrEmpty(home) ? Path.Combine(Path.GetTempPath(), "depthprune-cache") : Path.Combine(home, ".cache", "depthprune");
    }

    /// <summary>What a verdict depends on: the CPU and its flags, the libtorch build (TorchSharp's
    /// version pins it), the geometry set, and the threads oneDNN splits work over.</summary>
    public static string Key(CpuIdentity cpu, string torchSharpVersion, int threads)
    {
        string text = string.Join("\n", cpu.Model, string.Join(" ", cpu.Flags.Order(StringComparer.Ordinal)),
            torchSharpVersion, ConvCheckSet.Description, threads.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16];
    }

    sealed record Entry(string Cpu, string Isa, string Source, string Detail, IReadOnlyList<IsaRejection> Rejected, DateTime CheckedUtc);

    public IsaChoice? Find(string key)
    {
        var entries = ReadAll();
        if (entries is null || !entries.TryGetValue(key, out Entry? e)) return null;
        return new IsaChoice(e.Isa, IsaSource.Cached, $"{e.Source} {e.CheckedUtc:yyyy-MM-dd} for {e.Cpu}: {e.Detail} (cache {File})", e.Rejected);
    }

    /// <summary>Stores a verdict; a cache that cannot be written only costs a re-check next time.</summary>
    public void Store(string key, CpuIdentity cpu, IsaChoice choice)
    {
        try
        {
            var entries = ReadAll() ?? new Dictionary<string, Entry>();
            entries[key] = new Entry(cpu.Model, choice.Isa, choice.SourceName, choice.Detail, choice.Rejected, DateTime.UtcNow);
            AtomicFile.WriteText(File, JsonSerializer.Serialize(entries, ConvCheckReport.Json));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    Dictionary<string, Entry>? ReadAll()
    {
        try { return System.IO.File.Exists(File) ? JsonSerializer.Deserialize<Dictionary<string, Entry>>(System.IO.File.ReadAllText(File), ConvCheckReport.Json) : null; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException) { return null; }   // a damaged cache is re-checked, then rewritten
    }
}
