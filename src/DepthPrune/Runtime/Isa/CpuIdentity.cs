namespace DepthPrune.Runtime.Isa;

/// <summary>The processor as /proc/cpuinfo names it: model and instruction-set flags. oneDNN picks
/// kernels by these flags, so they (not only the model name) identify a cached verdict.</summary>
public sealed record CpuIdentity(string Model, IReadOnlySet<string> Flags)
{
    public static CpuIdentity Current { get; } = Read("/proc/cpuinfo");

    public static CpuIdentity Read(string path)
    {
        string model = "unknown";
        var flags = new HashSet<string>();
        if (!File.Exists(path)) return new CpuIdentity(model, flags);
        var fields = new Dictionary<string, string>();
        foreach (string line in File.ReadLines(path))
        {
            if (line.Length == 0) break;                       // the first processor is enough
            int colon = line.IndexOf(':');
            if (colon > 0) fields.TryAdd(line[..colon].Trim(), line[(colon + 1)..].Trim());
        }
        string Field(string name) => fields.GetValueOrDefault(name, "?");
        model = $"{Field("model name")} (family {Field("cpu family")}, model {Field("model")}, stepping {Field("stepping")})";
        foreach (string flag in Field("flags").Split(' ', StringSplitOptions.RemoveEmptyEntries)) flags.Add(flag);
        return new CpuIdentity(model, flags);
    }

    /// <summary>ISAs to try, fastest first: the CPU's best (ALL), then each lower level it supports.
    /// The names are ONEDNN_MAX_CPU_ISA's.</summary>
    public IReadOnlyList<string> IsaCandidates()
    {
        var supported = new (string Isa, bool Present)[]
        {
            ("AVX512_CORE", Has("avx512f", "avx512bw", "avx512vl", "avx512dq")),
            ("AVX2", Has("avx2", "fma")),
            ("AVX", Has("avx")),
            ("SSE41", Has("sse4_1")),
        }.Where(level => level.Present).Select(level => level.Isa).ToList();
        if (supported.Count == 0) return ["ALL"];
        // ALL is the top level itself unless the CPU has extensions above it (VNNI, BF16, AMX).
        bool beyondTop = supported[0] switch
        {
            "AVX512_CORE" => Has("avx512_vnni") || Has("avx512_bf16") || Has("amx_tile"),
            "AVX2" => Has("avx_vnni"),
            _ => false,
        };
        return ["ALL", .. supported.Skip(beyondTop ? 0 : 1)];
    }

    bool Has(params string[] flags) => flags.All(Flags.Contains);
}
