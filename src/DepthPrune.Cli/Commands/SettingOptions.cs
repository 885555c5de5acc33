using System.CommandLine;
using System.CommandLine.Parsing;
using DepthPrune.Methods;
using DepthPrune.Runtime;

namespace DepthPrune.Cli.Commands;

/// <summary>The command line's face of the method settings table (MethodSettings): one flag per
/// setting a method takes, `--` + the setting's name, checked by the setting's own rule; and the
/// way back, from the parsed flags to MethodOptions (the flag when given, else the cheap recipe's
/// value under --cheap, else the default).</summary>
public sealed class SettingOptions
{
    readonly List<(MethodSetting Setting, Option<string?> Option)> options = [];

    public static string Flag(MethodSetting setting) => "--" + setting.Name;

    /// <summary>The flag of one setting; fallback replaces the library's default (the demo's own).</summary>
    public static Option<string?> Create(MethodSetting setting, string? fallback = null)
    {
        string? shown = fallback ?? (setting.HasCheap ? null : setting.DefaultText);
        var option = new Option<string?>(Flag(setting))
        {
            Description = setting.Help + (setting.HasCheap && setting.DefaultText is { } d ? $" (default: {d}; --cheap sets its own)" : ""),
        };
        if (shown is not null) option.DefaultValueFactory = _ => shown;
        option.Validators.Add(r =>
        {
            if (r.Implicit || r.GetValueOrDefault<string?>() is not { } text) return;
            if (setting.Apply(MethodSettings.Defaults, text).Error is { } error) r.AddError($"{Flag(setting)} {error}");
        });
        return option;
    }

    /// <summary>Adds the flags of every setting in table that method takes.</summary>
    public SettingOptions(Command command, string method, IReadOnlyList<MethodSetting>? table = null)
        : this(command, (table ?? MethodSettings.All).Where(s => s.AppliesTo(method)).Select(s => (s, (string?)null))) { }

    /// <summary>Adds the flags of the given settings, each with its default or the one given.</summary>
    public SettingOptions(Command command, IEnumerable<(MethodSetting Setting, string? Fallback)> settings)
    {
        foreach (var (setting, fallback) in settings)
        {
            var option = Create(setting, fallback);
            command.Options.Add(option);
            options.Add((setting, option));
        }
    }

    public static MethodSetting Named(string name) => MethodSettings.All.First(s => s.Name == name);

    public bool Given(ParseResult parsed, string name) => options.Any(o => o.Setting.Name == name && parsed.GetResult(o.Option) is { Implicit: false });

    /// <summary>start with every flag of this command applied, in the table's order.</summary>
    public MethodOptions Resolve(ParseResult parsed, string method, MethodOptions start, bool cheap)
    {
        var resolved = start;
        foreach (var (setting, option) in options)
        {
            bool given = parsed.GetResult(option) is { Implicit: false };
            string? text = given || !cheap ? parsed.GetValue(option) : setting.CheapText(method, resolved) ?? parsed.GetValue(option);
            if (text is null) continue;
            var (next, error) = setting.Apply(resolved, text);
            resolved = next ?? throw new UsageException($"{Flag(setting)} {error}");
        }
        return resolved;
    }

    /// <summary>The table as docs/METHODS.md lists it ("Settings of the method commands"; a test keeps the two equal).</summary>
    public static string Markdown(IReadOnlyList<MethodSetting>? table = null)
    {
        var text = new System.Text.StringBuilder("| flag | default | methods | set by --cheap | meaning |\n|---|---|---|---|---|\n");
        foreach (var s in table ?? MethodSettings.All)
            text.Append($"| `{Flag(s)}` | {s.DefaultText ?? "unset"} | {(s.Methods is null ? "all" : string.Join(", ", s.Methods))} | {(s.HasCheap ? "yes" : "")} | {s.Help.Replace("|", "\\|")} |\n");
        return text.ToString();
    }

    /// <summary>A library refusal in the CLI's words: each setting's name in it becomes its flag.</summary>
    public static UsageException InFlags(UsageException e) => e is InvalidSettingException s
        ? new UsageException($"{Flag(s.Setting)} {s.Value}: {s.Rule}")
        : new UsageException(MethodSettings.All.Aggregate(e.Message, (m, setting) =>
            System.Text.RegularExpressions.Regex.Replace(m, $@"\b{setting.Property}\b", Flag(setting))));
}
