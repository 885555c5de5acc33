using System.CommandLine;
using System.CommandLine.Parsing;
using DepthPrune.Methods;
using DepthPrune.Runtime;

namespace DepthPrune.Cli.Commands;

/// <summary>The command line's face of the method settings table (MethodSettings): one flag per
/// setting a method takes, `--` + the setting's name, checked by the setting's own rule; and the
/// way back, from the parsed flags to MethodOptions (the flag when given, else the recipe's value
/// under --recipe, else the default).</summary>
public sealed class SettingOptions
{
    readonly List<(MethodSetting Setting, Option<string?> Option)> options = [];

    public static string Flag(MethodSetting setting) => "--" + setting.Name;

    /// <summary>The flag of one setting; fallback replaces the library's default (the demo's own).</summary>
    public static Option<string?> Create(MethodSetting setting, string? fallback = null)
    {
        string? shown = fallback ?? (setting.RecipesSet ? null : setting.DefaultText);
        var option = new Option<string?>(Flag(setting))
        {
            Description = setting.Help + (setting.RecipesSet && setting.DefaultText is { } d ? $" (default: {d}; a --recipe may set its own)" : ""),
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

    /// <summary>The flag of a given setting that method does not take (compress offers two methods' settings), or null.</summary>
    public string? GivenOutside(ParseResult parsed, string method) =>
        options.FirstOrDefault(o => !o.Setting.AppliesTo(method) && parsed.GetResult(o.Option) is { Implicit: false }).Setting is { } s ? Flag(s) : null;

    public bool Given(ParseResult parsed, string name) => options.Any(o => o.Setting.Name == name && parsed.GetResult(o.Option) is { Implicit: false });

    /// <summary>start with every flag of this command applied, then the recipe's values for the flags not given.</summary>
    public MethodOptions Resolve(ParseResult parsed, string method, MethodOptions start, Recipe? recipe = null)
    {
        var resolved = start;
        foreach (var (setting, option) in options)
        {
            if (parsed.GetValue(option) is not { } text) continue;
            var (next, error) = setting.Apply(resolved, text);
            resolved = next ?? throw new UsageException($"{Flag(setting)} {error}");
        }
        return recipe?.Apply(method, resolved, name => Given(parsed, name)) ?? resolved;
    }

    /// <summary>Every setting of this command as resolved (config.yaml records them, so --config repeats the run).</summary>
    public IEnumerable<(string Key, string Value)> Values(MethodOptions resolved, string method) =>
        options.Where(o => o.Setting.AppliesTo(method)).Select(o => (o.Setting.Name, Value: o.Setting.Format(resolved)))
            .Where(v => v.Value is not null).Select(v => (v.Name, v.Value!));

    /// <summary>The table as docs/METHODS.md lists it ("Settings of the method commands"; a test keeps the two equal).</summary>
    public static string Markdown(IReadOnlyList<MethodSetting>? table = null)
    {
        var text = new System.Text.StringBuilder("| flag | default | methods | set by a recipe | meaning |\n|---|---|---|---|---|\n");
        foreach (var s in table ?? MethodSettings.All)
            text.Append($"| `{Flag(s)}` | {s.DefaultText ?? "unset"} | {(s.Methods is null ? "all" : string.Join(", ", s.Methods))} | {string.Join(", ", Recipe.Setting(s.Name).Select(r => r.Name))} | {s.Help.Replace("|", "\\|")} |\n");
        return text.ToString();
    }

    /// <summary>A library refusal in the CLI's words: each setting's name in it becomes its flag.</summary>
    public static UsageException InFlags(UsageException e) => e is InvalidSettingException s
        ? new UsageException($"{Flag(s.Setting)} {s.Value}: {s.Rule}")
        : new UsageException(MethodSettings.All.Aggregate(e.Message, (m, setting) =>
            System.Text.RegularExpressions.Regex.Replace(m, $@"\b{setting.Property}\b", Flag(setting))));
}
