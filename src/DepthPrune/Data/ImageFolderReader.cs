using DepthPrune.Runtime;

namespace DepthPrune.Data;

/// <summary>Image trees: class folders, split folders ({train,test}/class), Tiny-ImageNet-200,
/// domain folders (PACS, VLCS) and split-list files (DTD, FGVC-Aircraft).</summary>
public static class ImageFolderReader
{
    static readonly HashSet<string> Extensions = new(StringComparer.OrdinalIgnoreCase) { ".jpg", ".jpeg", ".png", ".bmp", ".webp" };

    public static bool IsImage(string path) => Extensions.Contains(Path.GetExtension(path));

    public static void RequireDirectory(string path)
    {
        if (!Directory.Exists(path)) throw new DataFormatException($"{path}: directory not found");
    }

    /// <summary>Class names: the sub-folders of root, in ordinal order.</summary>
    public static string[] ClassFolders(string root)
    {
        RequireDirectory(root);
        string[] classes = Directory.GetDirectories(root).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToArray();
        if (classes.Length == 0) throw new DataFormatException($"{root}: no class folders");
        return classes;
    }

    /// <summary>root/&lt;class&gt;/*.jpg; an empty class folder is an error.</summary>
    public static List<LabelledFile> ListClassFolders(string root, IReadOnlyList<string> classes)
    {
        var files = new List<LabelledFile>();
        for (int c = 0; c < classes.Count; c++)
        {
            string folder = Path.Combine(root, classes[c]);
            RequireDirectory(folder);
            var images = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Where(IsImage).Order(StringComparer.Ordinal).ToList();
            if (images.Count == 0) throw new DataFormatException($"{folder}: empty class folder (no .jpg/.png images)");
            files.AddRange(images.Select(p => new LabelledFile(p, c)));
        }
        return files;
    }

    public static ImageSet ReadClassFolders(string root, IReadOnlyList<string> classes, int? size) =>
        ImageDecoder.DecodeAll(ListClassFolders(root, classes), classes, size, root);

    /// <summary>root/train/&lt;wnid&gt;/images/*.JPEG and root/val/images + val_annotations.txt.</summary>
    public static (ImageSet Train, ImageSet Val) ReadTinyImageNet(string root, int? size)
    {
        string train = Path.Combine(root, "train");
        string[] classes = File.Exists(Path.Combine(root, "wnids.txt"))
            ? File.ReadAllLines(Path.Combine(root, "wnids.txt")).Select(l => l.Trim()).Where(l => l.Length > 0).Order(StringComparer.Ordinal).ToArray()
            : ClassFolders(train);
        var trainSet = ReadClassFolders(train, classes, size);
        string annotations = Path.Combine(root, "val", "val_annotations.txt");
        if (!File.Exists(annotations)) throw new DataFormatException($"{annotations}: not found (Tiny-ImageNet validation labels)");
        (string, string) Parse(string row) => row.Split('\t') is [var file, var wnid, ..]
            ? (file, wnid) : throw new DataFormatException($"expected 'file<TAB>wnid', got '{row}'");
        return (trainSet, ReadSplitList(annotations, Path.Combine(root, "val", "images"), Parse, classes, size));
    }

    /// <summary>Split-list files: each line names an image (relative to imageRoot) and, via
    /// labelOf, its class name. DTD: "class/img.jpg"; Aircraft: "id variant".</summary>
    public static ImageSet ReadSplitList(string listFile, string imageRoot, Func<string, (string Relative, string Class)> parse,
        IReadOnlyList<string> classes, int? size)
    {
        if (!File.Exists(listFile)) throw new DataFormatException($"{listFile}: split file not found");
        var index = classes.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => p.i);
        var files = new List<LabelledFile>();
        int line = 0;
        foreach (string row in File.ReadLines(listFile))
        {
            line++;
            if (row.Trim().Length == 0) continue;
            string relative, cls;
            try { (relative, cls) = parse(row.Trim()); }
            catch (DataFormatException e) { throw new DataFormatException($"{listFile}:{line}: {e.Message}"); }
            if (!index.TryGetValue(cls, out int label))
                throw new DataFormatException($"{listFile}:{line}: unknown class '{cls}'");
            files.Add(new LabelledFile(Path.Combine(imageRoot, relative), label));
        }
        return ImageDecoder.DecodeAll(files, classes, size, listFile);
    }
}
