using System.CommandLine;
using DepthPrune.Cli;
using static DepthPrune.Tests.Foundation.CliConventionTests;

namespace DepthPrune.Tests.Foundation;

/// <summary>Every numeric option of every command, fed a malformed value: exit 2 and one line that
/// names the flag, never a stack trace (the CLI's contract in the README).</summary>
public class CliValueSweepTests
{
    static readonly Type[] Numeric = [typeof(int), typeof(int?), typeof(long), typeof(double), typeof(double?), typeof(int[])];

    /// <summary>Method settings are text flags that their table entry parses: numeric when the entry is a NumberSetting.</summary>
    static readonly Dictionary<string, bool> NumericSettings = DepthPrune.Methods.MethodSettings.All
        .Where(s => s is DepthPrune.Methods.NumberSetting<int> or DepthPrune.Methods.NumberSetting<double>)
        .ToDictionary(s => "--" + s.Name, s => s is DepthPrune.Methods.NumberSetting<int>);

    public static IEnumerable<object[]> NumericOptions()
    {
        Command root = CliApp.Build(TextWriter.Null, TextWriter.Null);
        foreach (var (path, command) in Commands(root, []))
            foreach (Option option in command.Options)
            {
                if (Numeric.Contains(option.ValueType))
                    yield return [string.Join(" ", path), option.Name, option.ValueType == typeof(int) || option.ValueType == typeof(int?) || option.ValueType == typeof(int[]) || option.ValueType == typeof(long)];
                else if (option.ValueType == typeof(string) && NumericSettings.TryGetValue(option.Name, out bool whole))
                    yield return [string.Join(" ", path), option.Name, whole];
            }
    }

    static IEnumerable<(string[] Path, Command Command)> Commands(Command parent, string[] path)
    {
        foreach (Command sub in parent.Subcommands)
        {
            string[] here = [.. path, sub.Name];
            yield return (here, sub);
            foreach (var nested in Commands(sub, here)) yield return nested;
        }
    }

    [Fact]
    public void The_sweep_covers_every_command_that_takes_numbers()
    {
        var commands = NumericOptions().Select(o => (string)o[0]).Distinct().ToList();
        foreach (string expected in new[] { "train", "easier", "nepenthe", "fold", "entropy", "models show", "demo" })
            Assert.Contains(expected, commands);
        Assert.True(NumericOptions().Count() > 100, $"{NumericOptions().Count()} options");
    }

    [Theory]
    [MemberData(nameof(NumericOptions))]
    public void A_malformed_number_is_a_usage_error_naming_the_flag(string command, string flag, bool whole)
    {
        string[] values = whole ? ["abc", "1.5", "99999999999"] : ["abc", "nan", "-inf", "1e999"];
        foreach (string value in values)
        {
            var (code, output, err) = Run([.. command.Split(' '), flag, value]);
            Assert.True(code == 2, $"{command} {flag} {value}: exit {code}, {err}{output}");
            Assert.Single(err.Trim().Split('\n'));
            Assert.StartsWith("depthprune: ", err);
            Assert.Contains(flag, err);
            Assert.DoesNotContain("   at ", err);
        }
    }

    [Theory]
    [InlineData("models show --width 0", "--width 0: must lie in (0,4]")]
    [InlineData("train --warmup-epochs -1", "--warmup-epochs -1: must be >= 0")]
    [InlineData("nepenthe --out x --prune-ratio 1", "--prune-ratio 1: must lie in (0,1)")]
    [InlineData("train --milestones 3 x", "--milestones 'x': expected a whole number")]
    [InlineData("train --milestones 3,x", "--milestones 'x': expected a whole number")]
    [InlineData("train --milestones 3,,4", "--milestones '': expected a whole number")]
    [InlineData("models show --width nan", "--width 'nan': expected a finite number")]
    [InlineData("easier --out x --distill 4", "--distill '4': expected T,alpha")]
    [InlineData("easier --out x --distill 4,1.5", "--distill '4,1.5': expected T,alpha")]
    [InlineData("nepenthe --out x --objective speed", "--objective 'speed': expected entropy or latency")]
    [InlineData("easier --out x --fold shallow", "--fold 'shallow': expected none, exact, macs, depth or onnxruntime")]
    [InlineData("fold --checkpoint x.ckpt --heal-epochs -1", "--heal-epochs -1: must be >= 0")]
    [InlineData("easier --out x --early-stop 2", "--early-stop 2: must lie in [0,1] (a fraction of --tolerance)")]
    [InlineData("nepenthe --out x --early-stop-every 0", "--early-stop-every 0: must be positive (epochs)")]
    [InlineData("easier --out x --max-removals 0", "--max-removals 0: must be >= 1")]
    [InlineData("egp --out x --probe-sample -5", "--probe-sample -5: must be >= 0 (images)")]
    [InlineData("train --schedule sgdr", "--schedule 'sgdr': expected constant, multistep, cosine or restarts")]
    [InlineData("easier --out x --restart-every 0", "--restart-every 0: must be positive (epochs)")]
    [InlineData("easier --out x --damage-sample 64 --objective latency", "--damage-sample: easier uses it with --objective entropy only")]
    [InlineData("nepenthe --out x --damage-sample 64", "--damage-sample: nepenthe uses it with --objective latency only")]
    public void Out_of_range_values_say_what_was_expected(string args, string message)
    {
        var (code, _, err) = Run(args.Split(' '));
        Assert.Equal(2, code);
        Assert.Contains(message, err);
    }

    [Theory]
    [InlineData("easier", "--prune-ratio")]
    [InlineData("easier", "--fold-lambda")]
    [InlineData("random", "--prune-ratio")]
    [InlineData("nepenthe", "--fold-lambda")]
    [InlineData("layerfold", "--prune-ratio")]
    [InlineData("imp", "--objective")]
    [InlineData("nepenthe", "--max-removals")]
    public void A_method_refuses_another_methods_option(string method, string flag)
    {
        var (code, _, err) = Run(method, "--out", "x", flag, "0.3");
        Assert.Equal(2, code);
        Assert.Contains(flag, err);
    }

    [Fact]
    public void Each_method_has_its_own_help_page_and_usage_names_the_tool()
    {
        var pages = new[] { "easier", "egp", "nepenthe", "imp", "layerfold", "random" }
            .Select(m => Run(m, "--help").Out).ToList();
        Assert.Equal(pages.Count, pages.Distinct().Count());
        Assert.All(pages, p => Assert.Contains("Usage:\n  depthprune ", p.Replace("\r", "")));
        Assert.Contains("--prune-ratio", pages[2]);
        Assert.DoesNotContain("--prune-ratio", pages[0]);
        Assert.Contains("--fold-lambda", pages[4]);
    }
}
