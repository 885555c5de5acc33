using System.Buffers.Binary;
using DepthPrune.Runtime;

namespace DepthPrune.Data;

/// <summary>MNIST-family IDX files (raw or .gz): images idx3-ubyte, labels idx1-ubyte.</summary>
public static class IdxReader
{
    const int ImageMagic = 0x00000803, LabelMagic = 0x00000801;

    public static ImageSet Read(string imagesPath, string labelsPath, IReadOnlyList<string> classes)
    {
        byte[] images = Gzip.ReadMaybeCompressed(imagesPath);
        byte[] labels = Gzip.ReadMaybeCompressed(labelsPath);
        var (count, rows, cols) = ImageHeader(images, imagesPath);
        int labelCount = LabelHeader(labels, labelsPath);
        if (labelCount != count)
            throw new DataFormatException($"{labelsPath}: {labelCount} labels but {imagesPath} holds {count} images");
        var y = new long[count];
        for (int i = 0; i < count; i++)
        {
            y[i] = labels[8 + i];
            if (y[i] >= classes.Count)
                throw new DataFormatException($"{labelsPath}: label {y[i]} at index {i} is outside 0..{classes.Count - 1}");
        }
        return ImageSet.FromBytes(images[16..(int)(16L + (long)count * rows * cols)], [count, 1, rows, cols], y, classes, imagesPath);
    }

    static (int Count, int Rows, int Cols) ImageHeader(byte[] data, string path)
    {
        RequireMagic(data, ImageMagic, path, "uint8 images, 3 dims");
        if (data.Length < 16) throw new DataFormatException($"{path}: truncated IDX header ({data.Length} bytes, need 16)");
        int count = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(4));
        int rows = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(8));
        int cols = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(12));
        // Each factor is checked against the file first, so the product cannot overflow.
        long perImage = (long)Math.Max(rows, 0) * Math.Max(cols, 0);
        long expected = perImage <= data.Length ? 16L + Math.Max(count, 0) * perImage : long.MaxValue;
        if (count < 0 || rows <= 0 || cols <= 0 || data.Length < expected)
            throw new DataFormatException($"{path}: truncated: header declares {count} images of {rows}x{cols} ({expected} bytes), file has {data.Length}");
        return (count, rows, cols);
    }

    static int LabelHeader(byte[] data, string path)
    {
        RequireMagic(data, LabelMagic, path, "uint8 labels, 1 dim");
        if (data.Length < 8) throw new DataFormatException($"{path}: truncated IDX header ({data.Length} bytes, need 8)");
        int count = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(4));
        if (count < 0 || data.Length < 8L + count)
            throw new DataFormatException($"{path}: truncated: header declares {count} labels, file has {data.Length - 8}");
        return count;
    }

    static void RequireMagic(byte[] data, int expected, string path, string meaning)
    {
        if (data.Length < 4) throw new DataFormatException($"{path}: truncated IDX header ({data.Length} bytes)");
        int magic = BinaryPrimitives.ReadInt32BigEndian(data);
        if (magic != expected)
            throw new DataFormatException($"{path}: wrong IDX magic 0x{magic:x8}, expected 0x{expected:x8} ({meaning})");
    }

    /// <summary>Finds "{prefix}-images-idx3-ubyte[.gz]" and its labels file in a folder.</summary>
    public static ImageSet ReadSplit(string directory, string prefix, IReadOnlyList<string> classes)
    {
        if (!Directory.Exists(directory)) throw new DataFormatException($"{directory}: directory not found");
        return Read(Find(directory, $"{prefix}-images-idx3-ubyte"), Find(directory, $"{prefix}-labels-idx1-ubyte"), classes);
    }

    static string Find(string directory, string stem)
    {
        foreach (string candidate in new[] { stem + ".gz", stem, stem.Replace("-idx", ".idx") })
        {
            string path = Path.Combine(directory, candidate);
            if (File.Exists(path)) return path;
        }
        throw new DataFormatException($"{directory}: no {stem} or {stem}.gz");
    }
}
