using DepthPrune.Runtime;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace DepthPrune.Cli;

/// <summary>Loads the small YAML/JSON files the CLI reads (configs, sweep grids) defensively: a size
/// cap, and a nesting cap checked on the event stream first, since YamlDotNet builds its document
/// tree recursively and a deeply nested file (100,000 '[') overflowed the stack and killed the process.</summary>
static class YamlInput
{
    const long MaxBytes = 1 << 20;
    const int MaxDepth = 16;

    public static YamlNode? Load(string path, string flag)
    {
        if (new FileInfo(path).Length > MaxBytes) throw new UsageException($"{flag} {path}: larger than {MaxBytes >> 10} KiB; not a configuration file");
        string text = File.ReadAllText(path);
        try
        {
            var parser = new Parser(new StringReader(text));
            int depth = 0;
            while (parser.MoveNext())
            {
                if (parser.Current is MappingStart or SequenceStart && ++depth > MaxDepth)
                    throw new UsageException($"{flag} {path}: nested deeper than {MaxDepth} levels; expected flag names with plain values or lists");
                if (parser.Current is MappingEnd or SequenceEnd) depth--;
            }
            var yaml = new YamlStream();
            yaml.Load(new StringReader(text));
            return yaml.Documents.FirstOrDefault()?.RootNode;
        }
        // YamlDotNet also throws InvalidOperationException on some malformed scalars.
        catch (Exception e) when (e is YamlException or InvalidOperationException or ArgumentException)
        {
            throw new UsageException($"{flag} {path}: not YAML or JSON ({e.Message})");
        }
    }
}
