using System.CommandLine;
using System.CommandLine.Parsing;
using System.Numerics;
using DepthPrune.Runtime;

namespace DepthPrune.Cli.Commands;

/// <summary>The one parsing layer for numeric flags: a value that is not a number, not finite, or
/// out of range is a usage error (exit 2) that names the flag and says what was expected.</summary>
public static class NumberOptions
{
    public static Option<T> WithDefault<T>(string name, string description, T fallback, Func<T, bool> valid, string rule)
        where T : struct, INumber<T>
    {
        var option = new Option<T>(name) { Description = description, DefaultValueFactory = _ => fallback };
        option.CustomParser = r => r.Tokens.Count == 0 ? fallback : Parse(r, name, valid, rule) ?? fallback;
        return option;
    }

    public static Option<T?> Optional<T>(string name, string description, Func<T, bool> valid, string rule)
        where T : struct, INumber<T>
    {
        var option = new Option<T?>(name) { Description = description };
        option.CustomParser = r => r.Tokens.Count == 0 ? null : Parse(r, name, valid, rule);
        return option;
    }

    public static Option<T[]?> List<T>(string name, string description, Func<T, bool> valid, string rule)
        where T : struct, INumber<T>
    {
        var option = new Option<T[]?>(name) { Description = description, AllowMultipleArgumentsPerToken = true };
        option.CustomParser = r =>
        {
            var values = new List<T>();
            // "8 12" and "8,12" both mean two values.
            foreach (Token token in r.Tokens)
                foreach (string text in token.Value.Split(','))
                    if (ParseOne(r, name, text, valid, rule) is T value) values.Add(value);
            return values.ToArray();
        };
        return option;
    }

    static T? Parse<T>(ArgumentResult r, string name, Func<T, bool> valid, string rule) where T : struct, INumber<T>
    {
        if (r.Tokens.Count > 1)
        {
            r.AddError($"{name}: expected one value, got {r.Tokens.Count}");
            return null;
        }
        return ParseOne(r, name, r.Tokens[0].Value, valid, rule);
    }

    static T? ParseOne<T>(ArgumentResult r, string name, string text, Func<T, bool> valid, string rule) where T : struct, INumber<T>
    {
        if (NumberText.Parse(text, out T value) is { } expected)
        {
            r.AddError($"{name} {expected}");
            return null;
        }
        if (!valid(value))
        {
            r.AddError($"{name} {text}: {rule}");
            return null;
        }
        return value;
    }
}
