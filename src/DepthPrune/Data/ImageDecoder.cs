using System.Collections.Concurrent;
using DepthPrune.Runtime;
using SkiaSharp;
using static TorchSharp.torch;

namespace DepthPrune.Data;

/// <summary>A labelled image file.</summary>
public readonly record struct LabelledFile(string Path, int Label);

/// <summary>Decodes image files (JPEG, PNG, BMP, WebP via SkiaSharp) in parallel into one uint8
/// [N,3,S,S] tensor. Images are resized (shorter side to S, centre crop) when a size is given;
/// otherwise every image must already have one common size.</summary>
public static class ImageDecoder
{
    public static ImageSet DecodeAll(IReadOnlyList<LabelledFile> files, IReadOnlyList<string> classes, int? size, string source)
    {
        if (files.Count == 0) throw new DataFormatException($"{source}: no images found");
        (int width, int height) = size is int s ? (s, s) : PeekSize(files[0].Path);
        int pixelsPerImage = width * height * 4;
        var rgba = new byte[(long)files.Count * pixelsPerImage];
        var failures = new ConcurrentBag<string>();
        Parallel.For(0, files.Count, i =>
        {
            string? error = DecodeInto(files[i].Path, width, height, size is not null, rgba.AsSpan(i * pixelsPerImage, pixelsPerImage));
            if (error is not null) failures.Add($"{files[i].Path}: {error}");
        });
        if (!failures.IsEmpty)
            throw new DataFormatException($"{failures.Count} unreadable image(s) in {source}; first: {failures.OrderBy(f => f).First()}");

        using var hwc = tensor(rgba, ScalarType.Byte).reshape(files.Count, height, width, 4);
        Tensor chw = hwc[.., .., .., ..3].permute(0, 3, 1, 2).contiguous();
        return new ImageSet(chw, files.Select(f => (long)f.Label).ToArray(), classes, source);
    }

    static (int, int) PeekSize(string path)
    {
        using var codec = SKCodec.Create(path) ?? throw new DataFormatException($"{path}: not a readable image");
        return (codec.Info.Width, codec.Info.Height);
    }

    static string? DecodeInto(string path, int width, int height, bool resize, Span<byte> target)
    {
        using var decoded = DecodeWhole(path, out string? error);
        if (decoded is null) return error;
        SKBitmap bitmap = decoded;
        if (!resize && (bitmap.Width != width || bitmap.Height != height))
            return $"size {bitmap.Width}x{bitmap.Height} differs from {width}x{height}; give the preset a load size";
        if (resize && (bitmap.Width != width || bitmap.Height != height)) bitmap = ResizeCentreCrop(bitmap, width, height);
        using var rgba = bitmap.Copy(SKColorType.Rgba8888);
        if (!ReferenceEquals(bitmap, decoded)) bitmap.Dispose();
        if (rgba is null) return "could not convert to RGBA";
        ReadOnlySpan<byte> pixels = rgba.GetPixelSpan();
        int rowBytes = width * 4;
        for (int y = 0; y < height; y++) pixels.Slice(y * rgba.RowBytes, rowBytes).CopyTo(target.Slice(y * rowBytes, rowBytes));
        return null;
    }

    /// <summary>SKBitmap.Decode fills the rows a truncated file lacks and succeeds; the codec says
    /// IncompleteInput. Decodes as SKBitmap.Decode does (premultiplied alpha), accepting only a whole image.</summary>
    static SKBitmap? DecodeWhole(string path, out string? error)
    {
        using var codec = SKCodec.Create(path);
        error = codec is null ? "not a readable image (corrupt or unsupported format)" : null;
        if (codec is null) return null;
        var info = codec.Info.AlphaType == SKAlphaType.Unpremul ? codec.Info.WithAlphaType(SKAlphaType.Premul) : codec.Info;
        var bitmap = new SKBitmap(info);
        SKCodecResult result = codec.GetPixels(info, bitmap.GetPixels());
        if (result == SKCodecResult.Success) return bitmap;
        bitmap.Dispose();
        error = $"incomplete or corrupt image data ({result})";
        return null;
    }

    static SKBitmap ResizeCentreCrop(SKBitmap source, int width, int height)
    {
        double scale = Math.Max((double)width / source.Width, (double)height / source.Height);
        int w = Math.Max(width, (int)Math.Round(source.Width * scale)), h = Math.Max(height, (int)Math.Round(source.Height * scale));
        using var scaled = source.Resize(new SKImageInfo(w, h, SKColorType.Rgba8888), new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.None));
        var cropped = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Premul);
        scaled.ExtractSubset(cropped, SKRectI.Create((w - width) / 2, (h - height) / 2, width, height));
        var copy = cropped.Copy();
        cropped.Dispose();
        return copy;
    }
}
