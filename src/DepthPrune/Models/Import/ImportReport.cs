namespace DepthPrune.Models.Import;

/// <summary>How a weight file's tensors matched a model's state: keys the model has and the
/// file lacks, keys the file has and the model lacks, and keys whose shapes differ.</summary>
public sealed record ImportReport(string Source, int Loaded, IReadOnlyList<string> Missing, IReadOnlyList<string> Unexpected,
    IReadOnlyList<string> Mismatched)
{
    public bool Complete => Missing.Count == 0 && Unexpected.Count == 0 && Mismatched.Count == 0;

    public string Describe()
    {
        static string List(string label, IReadOnlyList<string> keys) =>
            keys.Count == 0 ? "" : $"; {keys.Count} {label}: {string.Join(", ", keys.Take(6))}{(keys.Count > 6 ? ", ..." : "")}";
        return $"{Source}: {Loaded} tensors loaded{List("missing", Missing)}{List("unexpected", Unexpected)}{List("mis-shaped", Mismatched)}";
    }
}
