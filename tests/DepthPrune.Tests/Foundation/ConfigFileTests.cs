using System.Text.Json;
using static DepthPrune.Tests.Foundation.CliConventionTests;

namespace DepthPrune.Tests.Foundation;

public class ConfigFileTests
{
    [FashionMnistFact]
    public void A_config_file_sets_flags_the_command_line_overrides_and_the_resolved_one_repeats_the_run()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["run.yaml"], "model: mlp\nwidth: 0.25\ntrain-subset: 500\nepochs: 3\nmilestones: [1, 2]\nschedule: multistep\nnesterov: true\n");
        var (code, output, err) = Run("train", "--config", dir["run.yaml"], "--epochs", "1", "--out", dir["a"], "--quiet", "--json");
        Assert.True(code == 0, err);
        using (var first = JsonDocument.Parse(output))
        {
            Assert.Equal("mlp", first.RootElement.GetProperty("model").GetString());
            Assert.Equal(1, first.RootElement.GetProperty("epochs").GetInt32());   // the flag won over the file's 3
        }
        string resolved = File.ReadAllText(dir["a/config.yaml"]);
        foreach (string line in new[] { "model: mlp", "width: 0.25", "train-subset: 500", "epochs: 1", "nesterov: true", "schedule: multistep", "seed: 0" })
            Assert.Contains(line, resolved);
        Assert.DoesNotContain("out:", resolved);

        var (again, repeated, err2) = Run("train", "--config", dir["a/config.yaml"], "--out", dir["b"], "--quiet", "--json");
        Assert.True(again == 0, err2);
        static string WithoutTimes(string json) => System.Text.RegularExpressions.Regex.Replace(json, "\"seconds\":[0-9.E+-]+", "");
        Assert.Equal(WithoutTimes(output.Replace(dir["a"], "RUN")), WithoutTimes(repeated.Replace(dir["b"], "RUN")));
        Assert.Equal(resolved, File.ReadAllText(dir["b/config.yaml"]));
    }

    [Fact]
    public void Bad_config_files_are_usage_errors_that_name_the_file_and_key()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["typo.yaml"], "modle: mlp\n");
        File.WriteAllText(dir["value.yaml"], "width: abc\n");
        File.WriteAllText(dir["list.yaml"], "- a\n- b\n");
        File.WriteAllText(dir["flag.yaml"], "nesterov: maybe\n");
        File.WriteAllText(dir["other.json"], "{\"prune-ratio\": 0.3}");
        File.WriteAllText(dir["broken.yaml"], "model: [mlp\n");
        var cases = new (string[] Args, string Message)[]
        {
            (["train", "--config", dir["typo.yaml"], "--out", dir["r"]], $"--config {dir["typo.yaml"]}: unknown key 'modle' for train"),
            (["train", "--config", dir["value.yaml"], "--out", dir["r"]], "--width 'abc': expected a finite number"),
            (["train", "--config", dir["list.yaml"], "--out", dir["r"]], "expected a mapping of flag names to values"),
            (["train", "--config", dir["flag.yaml"], "--out", dir["r"]], "'nesterov' expects true or false, got 'maybe'"),
            (["easier", "--config", dir["other.json"], "--out", dir["r"]], "unknown key 'prune-ratio' for easier"),
            (["train", "--config", dir["broken.yaml"], "--out", dir["r"]], "not YAML or JSON"),
            (["train", "--config", dir["none.yaml"], "--out", dir["r"]], $"--config {dir["none.yaml"]}: no such file"),
        };
        foreach (var (args, message) in cases)
        {
            var (code, _, err) = Run(args);
            Assert.True(code == 2, $"{string.Join(" ", args)}: exit {code} {err}");
            Assert.Contains(message, err);
            Assert.Single(err.Trim().Split('\n'));
        }
        Assert.False(Directory.Exists(dir["r"]));
    }

    [Fact]
    public void A_run_from_a_checkpoint_does_not_record_model_defaults_it_did_not_use()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["dense.ckpt"], "x");
        var root = DepthPrune.Cli.CliApp.Build(TextWriter.Null, TextWriter.Null);
        string fromCheckpoint = DepthPrune.Cli.ConfigFile.Resolved(root.Parse(["easier", "--checkpoint", dir["dense.ckpt"], "--out", dir["o"]]));
        Assert.DoesNotContain("model:", fromCheckpoint);
        Assert.DoesNotContain("width:", fromCheckpoint);
        Assert.Contains("checkpoint: ", fromCheckpoint);
        string pretrained = DepthPrune.Cli.ConfigFile.Resolved(root.Parse(["easier", "--out", dir["o"]]));
        Assert.Contains("model: lenet5", pretrained);
    }
}
