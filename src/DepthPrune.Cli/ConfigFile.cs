using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using DepthPrune.Cli.Commands;
using DepthPrune.Runtime;
using YamlDotNet.RepresentationModel;

namespace DepthPrune.Cli;

/// <summary>`--config run.yaml` (or .json): each key is a flag of the command, without its dashes
/// (`model: resnet18-cifar`, `lr: 0.1`, `milestones: [80, 120]`, `nesterov: true`). The file's values
/// become flags, so they pass the same checks; a flag on the command line wins over the file; a key
/// that is not a flag of the command is an error naming it. `Resolved` is the other direction: every
/// flag's value as the run used it, written to RUN/config.yaml so the run can be repeated.</summary>
public static class ConfigFile
{
    public const string OptionName = "--config";

    /// <summary>Flags that say how to run, not what: left out of the resolved configuration.</summary>
    static readonly HashSet<string> NotConfiguration = [OptionName, "--out", "--resume", "--json", "--quiet", "--verbose", "--threads", "--help", "--version"];

    public static Option<string> Option() => PathOptions.InputFile(OptionName, "Read flags from a YAML or JSON file (keys are flag names without dashes); flags given here win", required: false);

    /// <summary>The command line with the config file's values added for every flag not given on it.</summary>
    public static string[] Expand(string[] args, ParseResult first)
    {
        if (first.Errors.Count > 0) return args;
        Command command = first.CommandResult.Command;
        Option? config = command.Options.FirstOrDefault(o => o.Name == OptionName);
        if (config is null || first.GetResult(config) is not { Implicit: false } given || given.Tokens.Count == 0) return args;
        string path = given.Tokens[0].Value;
        var expanded = new List<string>(args);
        foreach (var (key, node) in Read(path))
        {
            Option option = command.Options.FirstOrDefault(o => o.Name == "--" + key && !NotConfiguration.Contains(o.Name))
                ?? throw new UsageException($"{OptionName} {path}: unknown key '{key}' for {command.Name} (keys are its flags without dashes)");
            if (first.GetResult(option) is { Implicit: false }) continue;   // the command line wins
            expanded.AddRange(Tokens(option, node, path, key));
        }
        return [.. expanded];
    }

    static IEnumerable<(string Key, YamlNode Value)> Read(string path)
    {
        YamlNode? root = YamlInput.Load(path, OptionName);
        if (root is null) return [];
        if (root is not YamlMappingNode map)
            throw new UsageException($"{OptionName} {path}: expected a mapping of flag names to values");
        return map.Children.Select(p => (p.Key is YamlScalarNode { Value: { } k } ? k : throw new UsageException($"{OptionName} {path}: keys must be names"), p.Value));
    }

    static IEnumerable<string> Tokens(Option option, YamlNode node, string path, string key)
    {
        if (option.ValueType == typeof(bool))
        {
            string text = (node as YamlScalarNode)?.Value ?? "";
            if (!bool.TryParse(text, out bool on)) throw new UsageException($"{OptionName} {path}: '{key}' expects true or false, got '{text}'");
            return on ? [option.Name] : [];
        }
        var values = node switch
        {
            YamlScalarNode { Value: { } v } => [v],
            YamlSequenceNode seq when option.ValueType.IsArray => seq.Children.Select(c => (c as YamlScalarNode)?.Value
                ?? throw new UsageException($"{OptionName} {path}: '{key}' expects a list of values")).ToList(),
            _ => throw new UsageException($"{OptionName} {path}: '{key}' expects {(option.ValueType.IsArray ? "a list" : "one value")}"),
        };
        return [option.Name, .. values];
    }

    /// <summary>Flags that describe the model to build; a run started from --checkpoint does not use their defaults.</summary>
    static readonly HashSet<string> ModelFlags = ["--model", "--onnx-model", "--width", "--classes", "--in-channels", "--input-size", "--pretrain-epochs"];

    /// <summary>Every configurable flag of the command with the value this run used (explicit or default; unset ones left out).</summary>
    public static string Resolved(ParseResult parsed, IEnumerable<(string Key, string Value)>? resolved = null)
    {
        var root = new YamlMappingNode();
        var values = resolved?.ToDictionary(v => v.Key, v => v.Value) ?? [];
        bool fromCheckpoint = parsed.CommandResult.Command.Options.Any(o => o.Name == "--checkpoint" && parsed.GetResult(o) is { Implicit: false });
        bool imported = parsed.CommandResult.Command.Options.Any(o => o.Name == "--onnx-model" && parsed.GetResult(o) is { Implicit: false });
        foreach (Option option in parsed.CommandResult.Command.Options.Where(o => !NotConfiguration.Contains(o.Name)))
        {
            string key = option.Name[2..];
            if (values.Remove(key, out string? settled)) { root.Add(key, new YamlScalarNode(settled)); continue; }
            if (parsed.GetResult(option) is not OptionResult result) continue;
            // Started from a checkpoint, the model is the checkpoint's: its defaults would only mislead.
            if (fromCheckpoint && result.Implicit && ModelFlags.Contains(option.Name)) continue;
            // An imported network replaces the zoo: the zoo's default model would contradict it.
            if (option.Name == "--model" && result.Implicit && imported) continue;
            object? value = result.GetValueOrDefault<object?>();
            YamlNode? node = value switch
            {
                null => null,
                bool b => b ? new YamlScalarNode("true") : null,
                string s => new YamlScalarNode(s),
                System.Collections.IEnumerable list => new YamlSequenceNode(list.Cast<object>().Select(v => new YamlScalarNode(Format(v)))),
                _ => new YamlScalarNode(Format(value)),
            };
            if (node is not null) root.Add(key, node);
        }
        using var writer = new StringWriter();
        new YamlStream(new YamlDocument(root)).Save(writer, assignAnchors: false);
        return writer.ToString().Replace("...\n", "");
    }

    static string Format(object value) => value is IFormattable f ? f.ToString(null, CultureInfo.InvariantCulture) : value.ToString() ?? "";
}
