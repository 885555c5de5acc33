using System.CommandLine;

namespace DepthPrune.Cli.Commands;

/// <summary>File and folder flags, checked while parsing: a missing input, a folder where a file
/// belongs, or an output of the wrong kind is a usage error (exit 2) naming the flag.</summary>
public static class PathOptions
{
    public static Option<string> InputFile(string name, string description, bool required = true)
    {
        var option = new Option<string>(name) { Description = description, Required = required };
        option.Validators.Add(r =>
        {
            if (r.Tokens.Count == 0) return;
            string path = r.Tokens[0].Value;
            if (Directory.Exists(path)) r.AddError($"{name} {path}: is a folder; expected a file");
            else if (!File.Exists(path)) r.AddError($"{name} {path}: no such file");
        });
        return option;
    }

    /// <summary>A file to write: not an existing folder, and with one of the given extensions (any when none are given).</summary>
    public static Option<string> OutputFile(string name, string description, bool required, params string[] extensions)
    {
        var option = new Option<string>(name) { Description = description, Required = required };
        option.Validators.Add(r =>
        {
            if (r.Tokens.Count == 0) return;
            string path = r.Tokens[0].Value;
            if (Directory.Exists(path) || path.EndsWith('/'))
                r.AddError($"{name} {path}: is a folder; expected a file name");
            else if (extensions.Length > 0 && !extensions.Contains(Path.GetExtension(path).ToLowerInvariant()))
                r.AddError($"{name} {path}: expected a {string.Join(", ", extensions)} file name");
        });
        return option;
    }

    /// <summary>A folder to write into: named (not empty), and not an existing file.</summary>
    public static Option<string?> OutputFolder(string name, string description, bool required = false)
    {
        var option = new Option<string?>(name) { Description = description, Required = required };
        option.Validators.Add(r =>
        {
            if (r.Tokens.Count == 0) return;
            string path = r.Tokens[0].Value;
            if (string.IsNullOrWhiteSpace(path)) r.AddError($"{name}: empty; expected a folder to write into");
            else if (File.Exists(path)) r.AddError($"{name} {path}: is a file; expected a folder to write into");
        });
        return option;
    }

    public static Option<string?> InputFolder(string name, string description)
    {
        var option = new Option<string?>(name) { Description = description };
        option.Validators.Add(r =>
        {
            if (r.Tokens.Count == 0) return;
            string path = r.Tokens[0].Value;
            if (File.Exists(path)) r.AddError($"{name} {path}: is a file; expected a folder");
            else if (!Directory.Exists(path)) r.AddError($"{name} {path}: no such folder");
        });
        return option;
    }
}
