using System.CommandLine;
using System.CommandLine.Help;
using DepthPrune.Cli;
using DepthPrune.Cli.Commands;
using DepthPrune.Methods;
using DepthPrune.Runtime;

namespace DepthPrune.Tests.Foundation;

/// <summary>A method setting is one entry of MethodSettings: the CLI's flag and help, the config
/// file's key, the check of its value (in the CLI and in the library) and the cheap recipe's value
/// all come from it.</summary>
public class MethodSettingsTests
{
    /// <summary>A made-up setting for EASIER only, stored in MaxIterations (which it replaces here).</summary>
    static readonly NumberSetting<int> MadeUp = new("made-up-limit", nameof(MethodOptions.MaxIterations), "A made-up iteration limit", ["easier"],
        o => o.MaxIterations, (o, v) => o with { MaxIterations = v!.Value }, v => v >= 1, "must be >= 1");

    static readonly IReadOnlyList<MethodSetting> Table = [.. MethodSettings.All.Where(s => s.Name != "max-iterations"), MadeUp];

    static Command Root(IReadOnlyList<MethodSetting> table) => new("depthprune")
    {
        new HelpOption(),
        MethodCommand.Create("easier", TextWriter.Null, TextWriter.Null, table),
        MethodCommand.Create("nepenthe", TextWriter.Null, TextWriter.Null, table),
    };

    [Fact]
    public void One_entry_in_the_table_is_a_flag_with_help_a_config_key_and_a_check()
    {
        var root = Root(Table);
        var easier = root.Subcommands.Single(c => c.Name == "easier");
        var flag = Assert.Single(easier.Options, o => o.Name == "--made-up-limit");
        Assert.Equal("A made-up iteration limit", flag.Description);
        var help = new StringWriter();
        root.Parse(["easier", "--help"]).Invoke(new InvocationConfiguration { Output = help });
        Assert.Contains("--made-up-limit", help.ToString());
        Assert.DoesNotContain("--max-iterations", help.ToString());

        // Only the methods it names take it.
        var other = root.Parse(["nepenthe", "--made-up-limit", "2", "--out", "x"]);
        Assert.Contains(other.Errors, e => e.Message.Contains("--made-up-limit"));

        // Its rule checks the flag.
        var refused = root.Parse(["easier", "--made-up-limit", "0", "--out", "x"]);
        Assert.Contains("--made-up-limit 0: must be >= 1", refused.Errors.Select(e => e.Message));
        Assert.Empty(root.Parse(["easier", "--made-up-limit", "3", "--out", "x"]).Errors);

        // The config file takes it as a key, and the command line wins over it.
        using var dir = new TempDir();
        File.WriteAllText(dir["run.yaml"], "made-up-limit: 5\n");
        string[] args = ["easier", "--config", dir["run.yaml"], "--out", "x"];
        Assert.Equal([.. args, "--made-up-limit", "5"], ConfigFile.Expand(args, root.Parse(args)));
        string[] both = ["easier", "--config", dir["run.yaml"], "--made-up-limit", "7", "--out", "x"];
        Assert.Equal(both, ConfigFile.Expand(both, root.Parse(both)));
    }

    [Fact]
    public void The_table_resolves_values_and_the_library_checks_them_by_the_settings_name()
    {
        var command = new Command("easier");
        var settings = new SettingOptions(command, "easier", Table);
        var resolved = settings.Resolve(command.Parse(["--made-up-limit", "4"]), "easier", MethodSettings.Defaults);
        Assert.Equal(4, resolved.MaxIterations);

        var e = Assert.Throws<InvalidSettingException>(() => MethodSettings.Validate(MethodSettings.Defaults with { MaxIterations = 0 }, Table));
        Assert.Equal("MethodOptions.MaxIterations 0: must be >= 1", e.Message);
        Assert.Equal("--made-up-limit 0: must be >= 1", SettingOptions.InFlags(e).Message);
        // A rule between settings names them in the library's words; the CLI shows the flags.
        var between = Assert.Throws<UsageException>(() => (MethodSettings.Defaults with { ProbeSample = 32, Estimator = DepthPrune.Entropy.EntropyEstimator.BatchMean }).Validate());
        Assert.StartsWith("ProbeSample 32: needs Estimator dataset", between.Message);
        Assert.StartsWith("--probe-sample 32: needs --estimator dataset", SettingOptions.InFlags(between).Message);
    }

    [Theory]
    [InlineData("easier", "", 0.9, 2, 4096, 4096)]
    [InlineData("easier", "--objective latency", 0.9, 2, 4096, 0)]   // measured damage is EASIER's with the entropy objective only
    [InlineData("nepenthe", "", 1.0, 1, 4096, 0)]
    [InlineData("nepenthe", "--objective latency", 1.0, 1, 4096, 4096)]
    [InlineData("easier", "--early-stop 0.5 --max-removals 3 --probe-sample 0", 0.5, 3, 0, 4096)]   // a given flag wins over the recipe
    public void The_cheap_recipe_sets_what_is_not_given_in_the_CLI_and_the_API_alike(string method, string flags, double earlyStop, int maxRemovals, int probeSample, int damageSample)
    {
        var command = new Command(method);
        var settings = new SettingOptions(command, method);
        string[] args = flags.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var cheap = settings.Resolve(command.Parse(args), method, MethodSettings.Defaults, Recipe.Cheap);
        Assert.Equal((earlyStop, maxRemovals, probeSample, damageSample), (cheap.EarlyStop!.Value, cheap.MaxRemovals, cheap.ProbeSample, cheap.DamageSample));
        var plain = settings.Resolve(command.Parse([]), method, MethodSettings.Defaults);
        Assert.Equal((null, 1, 0, 0), (plain.EarlyStop, plain.MaxRemovals, plain.ProbeSample, plain.DamageSample));
        if (args.Length == 0) Assert.Equal(Recipe.Cheap.Apply(method, MethodSettings.Defaults), cheap);   // the API: the same options
    }

    [Theory]
    [InlineData("published")]
    [InlineData("cheap")]
    [InlineData("deploy")]
    public void A_recipe_resolves_to_the_same_options_through_the_API_and_the_CLI_and_flags_override_it(string name)
    {
        foreach (string method in DepthMethod.Names)
        {
            var command = new Command(method);
            var settings = new SettingOptions(command, method);
            var recipe = Recipe.Named(name)!;
            var viaCli = settings.Resolve(command.Parse([]), method, MethodSettings.Defaults, recipe);
            Assert.Equal(recipe.Apply(method, MethodSettings.Defaults), viaCli);
            Assert.Equal(name, viaCli.Recipe);
            var overridden = settings.Resolve(command.Parse(["--tolerance-confidence", "0.9", "--probe-sample", "100"]), method, MethodSettings.Defaults, recipe);
            Assert.Equal((0.9, 100), (overridden.ToleranceConfidence, overridden.ProbeSample));
        }
        var deploy = Recipe.Deploy.Apply("nepenthe", MethodSettings.Defaults);
        Assert.Equal((RemovalObjective.Latency, (4.0, 0.5), 4096, 1.0), (deploy.Objective, deploy.Distill!.Value, deploy.DamageSample, deploy.EarlyStop!.Value));
        Assert.Equal(0.5, Recipe.Published.Apply("easier", MethodSettings.Defaults).ToleranceConfidence);
    }

    [Fact]
    public void The_docs_list_every_setting_as_the_table_declares_it()
    {
        string methods = File.ReadAllText(Path.Combine(PackageTests.RepoRoot(), "docs", "METHODS.md"));
        const string begin = "<!-- settings: made from MethodSettings.All -->\n", end = "<!-- /settings -->";
        int from = methods.IndexOf(begin, StringComparison.Ordinal), to = methods.IndexOf(end, StringComparison.Ordinal);
        Assert.True(from >= 0 && to > from, "docs/METHODS.md: no settings list between the markers");
        string expected = SettingOptions.Markdown();
        Assert.True(methods[(from + begin.Length)..to] == expected, "docs/METHODS.md's settings list differs from the table; it should read:\n" + expected);
        Assert.Contains("| `--prune-ratio` | 0.5 | egp, nepenthe, imp |", expected);
    }
}
