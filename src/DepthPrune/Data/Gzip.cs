using System.IO.Compression;

namespace DepthPrune.Data;

static class Gzip
{
    /// <summary>Reads a file whole, inflating it when it starts with the gzip magic.</summary>
    public static byte[] ReadMaybeCompressed(string path)
    {
        if (!File.Exists(path)) throw new Runtime.DataFormatException($"{path}: file not found");
        byte[] raw = File.ReadAllBytes(path);
        if (raw.Length < 2 || raw[0] != 0x1f || raw[1] != 0x8b) return raw;
        try
        {
            using var input = new GZipStream(new MemoryStream(raw), CompressionMode.Decompress);
            using var output = new MemoryStream();
            input.CopyTo(output);
            return output.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw new Runtime.DataFormatException($"{path}: corrupt gzip data ({e.Message})");
        }
    }
}
