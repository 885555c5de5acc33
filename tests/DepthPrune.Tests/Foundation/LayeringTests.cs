using System.Text.RegularExpressions;

namespace DepthPrune.Tests.Foundation;

/// <summary>The library's folders form layers (docs/DESIGN.md, "Layers"): a folder uses only
/// folders of a lower layer, so no two depend on each other. Read from the sources: `using
/// DepthPrune.X;`, and `X.Name` or `DepthPrune.X.Name` where Name is a type declared in folder X.</summary>
public class LayeringTests
{
    /// <summary>The layers, bottom first, as docs/DESIGN.md draws them.</summary>
    public static readonly string[][] Layers =
    [
        ["Runtime"],
        ["Data", "Models"],
        ["Pruning", "Entropy"],
        ["Training"],
        ["Folding"],
        ["Export"],
        ["Methods", "Deployment"],
        ["Reporting"],
    ];

    static int LayerOf(string folder) => Array.FindIndex(Layers, l => l.Contains(folder));

    static readonly Regex Declared = new(@"\b(?:class|record|struct|enum|interface)\s+(?<name>[A-Z]\w*)", RegexOptions.Compiled);

    /// <summary>Every use of another folder that each folder's sources make: (folder, used folder, file).</summary>
    public static IEnumerable<(string From, string To, string File)> Uses(IReadOnlyDictionary<string, IReadOnlyList<(string File, string Text)>> sources)
    {
        var types = sources.ToDictionary(f => f.Key, f => f.Value.SelectMany(s => Declared.Matches(s.Text).Select(m => m.Groups["name"].Value)).ToHashSet());
        string folders = string.Join("|", sources.Keys);
        var use = new Regex($@"using DepthPrune\.(?<folder>{folders})\b|(?<![\w.])(?:DepthPrune\.)?(?<folder>{folders})\.(?<name>[A-Z]\w*)");
        foreach (var (folder, files) in sources)
            foreach (var (file, text) in files)
                foreach (Match m in use.Matches(text))
                {
                    string to = m.Groups["folder"].Value;
                    if (to == folder || m.Groups["name"].Success && !types[to].Contains(m.Groups["name"].Value)) continue;
                    yield return (folder, to, file);
                }
    }

    static IReadOnlyDictionary<string, IReadOnlyList<(string File, string Text)>> LibrarySources()
    {
        string library = Path.Combine(PackageTests.RepoRoot(), "src", "DepthPrune");
        return Directory.GetDirectories(library).Select(Path.GetFileName).Where(d => d is not ("bin" or "obj" or "packaging")).ToDictionary(d => d!,
            d => (IReadOnlyList<(string, string)>)Directory.GetFiles(Path.Combine(library, d!), "*.cs", SearchOption.AllDirectories)
                .Select(f => (Path.GetRelativePath(library, f), File.ReadAllText(f))).ToList());
    }

    [Fact]
    public void Every_library_folder_uses_only_folders_of_a_lower_layer()
    {
        var sources = LibrarySources();
        Assert.All(sources.Keys, folder => Assert.True(LayerOf(folder) >= 0, $"src/DepthPrune/{folder} is in no layer of docs/DESIGN.md"));
        var uses = Uses(sources).ToList();
        Assert.Contains(uses, u => u is { From: "Methods", To: "Training" });   // the scan sees real uses
        var upward = uses.Where(u => LayerOf(u.To) >= LayerOf(u.From)).Select(u => $"{u.File}: {u.From} uses {u.To}").Distinct().ToList();
        Assert.True(upward.Count == 0, "uses of a folder in the same or a higher layer:\n" + string.Join("\n", upward));
    }

    [Fact]
    public void The_scan_sees_a_using_and_a_qualified_type_but_not_a_property_of_the_same_name()
    {
        var sources = new Dictionary<string, IReadOnlyList<(string, string)>>
        {
            ["Methods"] = [("Methods/A.cs", "using DepthPrune.Reporting;\nclass A { void F() => Models.ZooModel.Build(); int G => Set.Models.Count; }")],
            ["Models"] = [("Models/ZooModel.cs", "public sealed class ZooModel { }")],
            ["Reporting"] = [("Reporting/R.cs", "static class RunReport { }")],
        };
        var uses = Uses(sources).Select(u => (u.From, u.To)).ToList();
        Assert.Equal([("Methods", "Reporting"), ("Methods", "Models")], uses);
    }
}
