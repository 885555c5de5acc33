using System.Text.Json;

namespace DepthPrune.Cli;

public static class JsonOut
{
    static readonly JsonSerializerOptions Options = new() { WriteIndented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);
}
