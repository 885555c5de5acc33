using DepthPrune.Runtime;

namespace DepthPrune.Data;

/// <summary>CIFAR-10 binary batches: records of 1 label byte + 3072 pixel bytes (R, G, B planes of 32x32).</summary>
public static class CifarBinaryReader
{
    const int Record = 1 + 3 * 32 * 32;
    public static readonly string[] DefaultClasses =
        ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

    public static bool LooksLikeBinary(string directory) =>
        File.Exists(Path.Combine(directory, "data_batch_1.bin")) || File.Exists(Path.Combine(directory, "cifar-10-batches-bin", "data_batch_1.bin"));

    public static (ImageSet Train, ImageSet Test) ReadDirectory(string directory)
    {
        string dir = File.Exists(Path.Combine(directory, "data_batch_1.bin")) ? directory : Path.Combine(directory, "cifar-10-batches-bin");
        string[] classes = ReadClassNames(dir);
        var train = Read(Enumerable.Range(1, 5).Select(i => Path.Combine(dir, $"data_batch_{i}.bin")).ToArray(), classes);
        var test = Read([Path.Combine(dir, "test_batch.bin")], classes);
        return (train, test);
    }

    public static ImageSet Read(IReadOnlyList<string> files, IReadOnlyList<string> classes)
    {
        var pixels = new List<byte[]>();
        var labels = new List<long>();
        foreach (string file in files)
        {
            if (!File.Exists(file)) throw new DataFormatException($"{file}: CIFAR-10 batch file not found");
            byte[] data = File.ReadAllBytes(file);
            if (data.Length == 0 || data.Length % Record != 0)
                throw new DataFormatException($"{file}: {data.Length} bytes is not a whole number of {Record}-byte CIFAR records (truncated or not a CIFAR-10 batch)");
            for (int offset = 0; offset < data.Length; offset += Record)
            {
                byte label = data[offset];
                if (label >= classes.Count)
                    throw new DataFormatException($"{file}: label {label} in record {offset / Record} is outside 0..{classes.Count - 1}");
                labels.Add(label);
                pixels.Add(data[(offset + 1)..(offset + Record)]);
            }
        }
        byte[] all = pixels.SelectMany(p => p).ToArray();
        return ImageSet.FromBytes(all, [labels.Count, 3, 32, 32], labels.ToArray(), classes, string.Join(", ", files.Select(Path.GetFileName)));
    }

    static string[] ReadClassNames(string dir)
    {
        string meta = Path.Combine(dir, "batches.meta.txt");
        if (!File.Exists(meta)) return DefaultClasses;
        string[] names = File.ReadAllLines(meta).Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
        return names.Length == 10 ? names : throw new DataFormatException($"{meta}: expected 10 class names, found {names.Length}");
    }
}
