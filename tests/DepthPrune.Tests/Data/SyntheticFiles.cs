using System.Buffers.Binary;
using System.IO.Compression;
using SkiaSharp;

namespace DepthPrune.Tests.Data;

/// <summary>Writes small data files in the real formats, with known pixel values.</summary>
public static class SyntheticFiles
{
    public static byte Pixel(int image, int index) => (byte)((image * 31 + index * 7) % 256);

    public static void WriteIdx(string imagesPath, string labelsPath, int count, int rows, int cols, bool gzip)
    {
        var images = new byte[16 + count * rows * cols];
        BinaryPrimitives.WriteInt32BigEndian(images, 0x803);
        BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(4), count);
        BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(8), rows);
        BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(12), cols);
        for (int i = 0; i < count; i++)
            for (int p = 0; p < rows * cols; p++) images[16 + i * rows * cols + p] = Pixel(i, p);
        var labels = new byte[8 + count];
        BinaryPrimitives.WriteInt32BigEndian(labels, 0x801);
        BinaryPrimitives.WriteInt32BigEndian(labels.AsSpan(4), count);
        for (int i = 0; i < count; i++) labels[8 + i] = (byte)(i % 10);
        Write(imagesPath, images, gzip);
        Write(labelsPath, labels, gzip);
    }

    static void Write(string path, byte[] bytes, bool gzip)
    {
        if (!gzip) { File.WriteAllBytes(path, bytes); return; }
        using var file = File.Create(path);
        using var z = new GZipStream(file, CompressionLevel.Fastest);
        z.Write(bytes);
    }

    public static void WriteCifarBatch(string path, int count, int firstImage)
    {
        var data = new byte[count * 3073];
        for (int i = 0; i < count; i++)
        {
            data[i * 3073] = (byte)((firstImage + i) % 10);
            for (int p = 0; p < 3072; p++) data[i * 3073 + 1 + p] = Pixel(firstImage + i, p);
        }
        File.WriteAllBytes(path, data);
    }

    /// <summary>A PNG (lossless, so pixels are checkable) filled with one RGB colour.</summary>
    public static void WritePng(string path, int width, int height, byte r, byte g, byte b)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        using var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        bitmap.Erase(new SKColor(r, g, b));
        using var image = SKImage.FromBitmap(bitmap);
        using var encoded = image.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, encoded.ToArray());
    }

}
