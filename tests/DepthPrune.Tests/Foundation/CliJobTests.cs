using System.Text.Json;
using static DepthPrune.Tests.Foundation.CliConventionTests;

namespace DepthPrune.Tests.Foundation;

/// <summary>The commands end to end on the real Fashion-MNIST, kept small.</summary>
public class CliJobTests
{
    [FashionMnistFact]
    public void Train_entropy_and_a_method_run_from_the_command_line()
    {
        using var dir = new TempDir();
        var (code, output, err) = Run("train", "--model", "mlp", "--width", "0.25", "--dataset", "fashion-mnist", "--train-subset", "3000",
            "--epochs", "3", "--out", dir["train"], "--json", "--quiet");
        Assert.True(code == 0, err);
        using (var train = JsonDocument.Parse(output))
            Assert.True(train.RootElement.GetProperty("test_top1").GetDouble() > 50);   // chance is 10

        (code, output, err) = Run("entropy", "--checkpoint", dir["train/model.ckpt"], "--json");
        Assert.True(code == 0, err);
        using (var entropy = JsonDocument.Parse(output))
        {
            var layers = entropy.RootElement.GetProperty("layers");
            Assert.Equal(3, layers.GetArrayLength());
            foreach (var layer in layers.EnumerateArray())
            {
                Assert.InRange(layer.GetProperty("entropy").GetDouble(), 0, 1);
                Assert.Equal(128, layer.GetProperty("neurons").GetInt32());
                Assert.True(layer.GetProperty("always_on").GetInt32() >= 0 && layer.GetProperty("always_off").GetInt32() >= 0);
            }
        }

        (code, _, err) = Run("easier", "--checkpoint", dir["train/model.ckpt"], "--dataset", "fashion-mnist", "--train-subset", "3000",
            "--max-iterations", "1", "--out", dir["easier"], "--quiet");
        Assert.True(code == 0, err);
        using var run = JsonDocument.Parse(File.ReadAllText(dir["easier/run.json"]));
        Assert.Equal("easier", run.RootElement.GetProperty("method").GetString());
        Assert.Equal(1, run.RootElement.GetProperty("iterations")[0].GetProperty("removed").GetInt32());
        Assert.Equal("validation", run.RootElement.GetProperty("stopping_split").GetString());   // held out by default

        // --cheap: several removals, early-stopping fine-tunes, a sampled probe and measured damage, each recorded.
        // (300 validation images bound a paired difference only to about +-1 point at 95%: judged on the point estimate here.)
        (code, _, err) = Run("easier", "--checkpoint", dir["train/model.ckpt"], "--dataset", "fashion-mnist", "--train-subset", "3000",
            "--max-iterations", "1", "--cheap", "--tolerance-confidence", "0.5", "--out", dir["cheap"]);
        Assert.True(code == 0, err);
        Assert.Contains("stopping on validation (300 training images held out); test top-1 is reported, never used to stop", err);
        using (var cheap = JsonDocument.Parse(File.ReadAllText(dir["cheap/run.json"])))
        {
            var r = cheap.RootElement;
            Assert.Equal(0.9, r.GetProperty("early_stop").GetDouble());
            Assert.Equal(0.5, r.GetProperty("tolerance_confidence").GetDouble());
            Assert.Equal(2, r.GetProperty("max_removals").GetInt32());
            Assert.Equal(4096, r.GetProperty("probe_sample").GetInt32());
            Assert.Equal(4096, r.GetProperty("damage_sample").GetInt32());
            Assert.True(r.GetProperty("iterations")[0].GetProperty("newly_removed").GetArrayLength() > 1);
        }

        // The removed ReLU sits between two linear layers: folding merges them, exactly.
        (code, output, err) = Run("fold", "--checkpoint", dir["easier/iter-1.ckpt"], "--latency-repeats", "2", "--onnx", dir["folded.onnx"], "--json");
        Assert.True(code == 0, err);
        using var fold = JsonDocument.Parse(output);
        var root = fold.RootElement;
        var merge = Assert.Single(root.GetProperty("merges").EnumerateArray());
        Assert.True(merge.GetProperty("exact").GetBoolean());
        Assert.Equal(root.GetProperty("original").GetProperty("depth").GetInt32() - 1, root.GetProperty("folded").GetProperty("depth").GetInt32());
        Assert.True(root.GetProperty("folded").GetProperty("macs").GetInt64() < root.GetProperty("original").GetProperty("macs").GetInt64());
        Assert.Equal(10000, root.GetProperty("test").GetProperty("samples").GetInt64());
        Assert.True(root.GetProperty("test").GetProperty("max_relative_difference").GetDouble() < 1e-4);
        Assert.Equal(root.GetProperty("test").GetProperty("top1_original").GetDouble(), root.GetProperty("test").GetProperty("top1_folded").GetDouble(), 1);
        // The ONNX file runs in ONNX Runtime and computes what the folded network computes.
        var onnx = root.GetProperty("onnx");
        Assert.True(File.Exists(dir["folded.onnx"]));
        Assert.True(onnx.GetProperty("max_relative_difference").GetDouble() < 1e-4);
        Assert.Equal(root.GetProperty("test").GetProperty("top1_folded").GetDouble(), onnx.GetProperty("top1").GetDouble(), 1);

        // --against: the ONNX file timed beside the dense model it came from, at batch 1 and 64.
        (code, output, err) = Run("fold", "--checkpoint", dir["easier/iter-1.ckpt"], "--latency-repeats", "2", "--onnx", dir["against.onnx"],
            "--against", dir["train/model.ckpt"], "--json");
        Assert.True(code == 0, err);
        var against = JsonDocument.Parse(output).RootElement.GetProperty("against");
        Assert.Equal(dir["train/model.ckpt"], against.GetProperty("checkpoint").GetString());
        Assert.Equal([1, 64], against.GetProperty("onnxruntime").EnumerateArray().Select(p => p.GetProperty("batch").GetInt32()));
        foreach (var p in against.GetProperty("onnxruntime").EnumerateArray())
            Assert.Equal(p.GetProperty("folded_ms").GetDouble() / p.GetProperty("dense_ms").GetDouble(), p.GetProperty("ratio").GetDouble(), 6);
        (code, _, err) = Run("fold", "--checkpoint", dir["easier/iter-1.ckpt"], "--against", dir["train/model.ckpt"]);
        Assert.Equal(2, code);
        Assert.Contains("--against: needs --onnx", err);

        // --heal-epochs: the text line states what the JSON records (the same seed heals the same way twice).
        string[] heal = ["fold", "--checkpoint", dir["easier/iter-1.ckpt"], "--latency-repeats", "2", "--heal-epochs", "1"];
        (code, output, err) = Run([.. heal, "--json"]);
        Assert.True(code == 0, err);
        var healing = JsonDocument.Parse(output).RootElement.GetProperty("healing");
        // A rate that lowers top-1 is undone and the next, ten times lower, tried: 0.001, 1e-4 or 1e-5.
        int lowered = healing.GetProperty("lowered_rates").GetInt32();
        Assert.Equal(0.001 / Math.Pow(10, lowered), healing.GetProperty("learning_rate").GetDouble(), 12);
        Assert.Equal(0, healing.GetProperty("diverged_rates").GetInt32());
        string split = healing.GetProperty("judged_on").GetString()!;
        string judged = $"{split} top-1 {healing.GetProperty("judged_top1_before").GetDouble():F2} -> {healing.GetProperty("judged_top1_after").GetDouble():F2}, ";
        string expected = $"healed 1 epoch(s) at lr {0.001 / Math.Pow(10, lowered):G3} on the training split" +
            (lowered == 0 ? "" : $" (higher rates, each ten times the next: {lowered} lowered {split} top-1)") + ": " + judged +
            (healing.GetProperty("kept").GetBoolean()
                ? $"kept; test top-1 {healing.GetProperty("test_top1_before").GetDouble():F2} -> {healing.GetProperty("test_top1_after").GetDouble():F2}"
                : "lower, so undone: the folded weights are kept");
        (code, output, err) = Run(heal);
        Assert.True(code == 0, err);
        Assert.Contains(expected + "\n", output);

        // --policy onnxruntime: the grouping is timed, so only what must hold whatever it chose is checked.
        (code, output, err) = Run("fold", "--checkpoint", dir["easier/iter-1.ckpt"], "--policy", "onnxruntime", "--latency-repeats", "2", "--onnx", dir["timed.onnx"], "--json");
        Assert.True(code == 0, err);
        var timed = JsonDocument.Parse(output).RootElement;
        Assert.Equal("onnxruntime", timed.GetProperty("policy").GetString());
        Assert.True(timed.GetProperty("folded").GetProperty("depth").GetInt32() <= timed.GetProperty("original").GetProperty("depth").GetInt32());
        Assert.True(timed.GetProperty("test").GetProperty("max_relative_difference").GetDouble() < 1e-4);
        Assert.True(timed.GetProperty("onnx").GetProperty("max_relative_difference").GetDouble() < 1e-4);
    }

    [FashionMnistFact]
    public void Preset_width_applies_unless_the_flag_is_typed()
    {
        using var dir = new TempDir();
        var (code, _, err) = Run("train", "--model", "resnet18-cifar", "--dataset", "fashion-mnist", "--train-subset", "256",
            "--epochs", "0", "--out", dir["preset"], "--quiet");
        Assert.True(code == 0, err);
        Assert.Equal(0.25, DepthPrune.Training.Checkpoint.ReadMeta(dir["preset/model.ckpt"]).ModelOptions.Width);
        (code, _, err) = Run("train", "--model", "resnet18-cifar", "--width", "0.125", "--dataset", "fashion-mnist", "--train-subset", "256",
            "--epochs", "0", "--out", dir["typed"], "--quiet");
        Assert.True(code == 0, err);
        Assert.Equal(0.125, DepthPrune.Training.Checkpoint.ReadMeta(dir["typed/model.ckpt"]).ModelOptions.Width);
        // A list flag takes its values apart or comma-separated alike.
        (code, _, err) = Run("train", "--model", "mlp", "--dataset", "fashion-mnist", "--train-subset", "256", "--schedule", "multistep",
            "--milestones", "1,3", "5", "--epochs", "0", "--out", dir["milestones"], "--quiet");
        Assert.True(code == 0, err);
        Assert.Equal([1, 3, 5], DepthPrune.Training.Checkpoint.ReadMeta(dir["milestones/model.ckpt"]).Train!.Milestones);
    }

    [FashionMnistFact]
    public void Train_init_starts_from_a_checkpoints_weights_and_refuses_another_model()
    {
        using var dir = new TempDir();
        var (code, output, err) = Run("train", "--model", "mlp", "--width", "0.25", "--dataset", "fashion-mnist", "--train-subset", "2000",
            "--epochs", "2", "--out", dir["first"], "--json", "--quiet");
        Assert.True(code == 0, err);
        double trained = JsonDocument.Parse(output).RootElement.GetProperty("test_top1").GetDouble();
        Assert.True(trained > 50, $"{trained}");   // chance is 10

        // No epochs from the checkpoint: the same weights give the first run's test top-1 (a random start gives about 10).
        (code, output, err) = Run("train", "--init", dir["first/model.ckpt"], "--dataset", "fashion-mnist", "--train-subset", "2000",
            "--epochs", "0", "--out", dir["again"], "--json", "--quiet");
        Assert.True(code == 0, err);
        Assert.Equal(trained, JsonDocument.Parse(output).RootElement.GetProperty("test_top1").GetDouble(), 6);
        Assert.Equal("mlp", DepthPrune.Training.Checkpoint.ReadMeta(dir["again/model.ckpt"]).Model);
        // Each finished epoch says where the run stands, its test top-1 as train.json records it.
        (code, output, err) = Run("train", "--init", dir["first/model.ckpt"], "--dataset", "fashion-mnist", "--train-subset", "2000",
            "--epochs", "1", "--out", dir["one"], "--json");
        Assert.True(code == 0, err);
        double epochTop1 = JsonDocument.Parse(output).RootElement.GetProperty("history")[0].GetProperty("test_top1").GetDouble();
        Assert.Contains($"train epoch 1/1 done: loss ", err);
        Assert.Contains($", test top-1 {epochTop1.ToString("F2", System.Globalization.CultureInfo.InvariantCulture)}%", err);

        (code, _, err) = Run("train", "--init", dir["first/model.ckpt"], "--model", "lenet5", "--dataset", "fashion-mnist", "--epochs", "0", "--out", dir["other"]);
        Assert.Equal(2, code);
        Assert.Contains($"--init {dir["first/model.ckpt"]} holds mlp", err);
        (code, _, err) = Run("train", "--init", dir["missing.ckpt"], "--dataset", "fashion-mnist", "--out", dir["none"]);
        Assert.Equal(2, code);
        Assert.Contains("--init", err);

        // Masks that keep every weight (a method run's dense.ckpt) are no pruning: the run starts from the weights.
        using (var first = DepthPrune.Training.Checkpoint.Load(dir["first/model.ckpt"], DepthPrune.Runtime.Compute.Cpu))
        using (var masks = new DepthPrune.Pruning.PruningMasks())
        {
            var layer = first.Model.Structure.WeightLayers[0];
            masks.Ensure(first.Model, layer);
            DepthPrune.Training.Checkpoint.Save(dir["kept.ckpt"], first.Model, first.Meta, masks);
            masks.For(layer.Module)![0].fill_(false);
            masks.ApplyToWeights(first.Model);
            DepthPrune.Training.Checkpoint.Save(dir["pruned.ckpt"], first.Model, first.Meta, masks);
        }
        (code, output, err) = Run("train", "--init", dir["kept.ckpt"], "--dataset", "fashion-mnist", "--train-subset", "2000",
            "--epochs", "0", "--out", dir["kept"], "--json", "--quiet");
        Assert.True(code == 0, err);
        Assert.Equal(trained, JsonDocument.Parse(output).RootElement.GetProperty("test_top1").GetDouble(), 6);
        (code, _, err) = Run("train", "--init", dir["pruned.ckpt"], "--dataset", "fashion-mnist", "--epochs", "0", "--out", dir["pruned"]);
        Assert.Equal(2, code);
        Assert.Contains($"--init {dir["pruned.ckpt"]}: holds pruning masks", err);
    }

    [Fact]
    public void A_dense_checkpoint_decides_the_preset_behind_the_fine_tune_rate()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir["cifar"]);
        for (int b = 1; b <= 5; b++) DepthPrune.Tests.Data.SyntheticFiles.WriteCifarBatch(dir[$"cifar/data_batch_{b}.bin"], 8, (b - 1) * 8);
        DepthPrune.Tests.Data.SyntheticFiles.WriteCifarBatch(dir["cifar/test_batch.bin"], 8, 100);
        var (code, _, err) = Run("train", "--model", "vgg16bn", "--width", "0.0625", "--dataset", "cifar10", "--data", dir["cifar"], "--preset", "paper",
            "--epochs", "0", "--out", dir["dense"], "--quiet");
        Assert.True(code == 0, err);
        // No --model: the papers' CIFAR-10 rate for VGG is 0.01 (0.1 for the others), and a fine-tune takes a tenth of it.
        (code, _, err) = Run("easier", "--checkpoint", dir["dense/model.ckpt"], "--dataset", "cifar10", "--data", dir["cifar"], "--preset", "paper",
            "--val-split", "0", "--batch-size", "8", "--max-iterations", "1", "--tolerance", "100", "--out", dir["run"], "--quiet");
        Assert.True(code == 0, err);
        using var run = JsonDocument.Parse(File.ReadAllText(dir["run/run.json"]));
        Assert.Equal(0.001, run.RootElement.GetProperty("finetune_lr").GetDouble(), 9);
        Assert.Contains("finetune-lr: 0.001\n", File.ReadAllText(dir["run/config.yaml"]));   // resolved, though not typed
    }

    [Theory]
    [InlineData("--prune-ratio", "1.5")]
    [InlineData("--prune-ratio", "0")]
    [InlineData("--tolerance", "-1")]
    [InlineData("--max-iterations", "-2")]
    [InlineData("--model", "alexnet")]
    [InlineData("--dataset", "imagenet")]
    [InlineData("--width", "0")]
    public void Invalid_method_flags_exit_2_naming_the_flag(string flag, string value)
    {
        var (code, _, err) = Run("nepenthe", flag, value, "--out", Path.Combine(Path.GetTempPath(), "never-written"));
        Assert.Equal(2, code);
        Assert.Contains(flag, err);
        Assert.False(Directory.Exists(Path.Combine(Path.GetTempPath(), "never-written")));
    }

    [Fact]
    public void Fold_refuses_a_bad_policy_and_a_missing_checkpoint_by_name()
    {
        var (code, _, err) = Run("fold", "--checkpoint", "model.ckpt", "--policy", "shallow");
        Assert.Equal(2, code);
        Assert.Contains("--policy 'shallow'", err);
        (code, _, err) = Run("fold", "--checkpoint", "/nonexistent/model.ckpt");
        Assert.Equal(2, code);
        Assert.Contains("/nonexistent/model.ckpt", err);
    }

    [Fact]
    public void Models_list_json_reports_the_reference_counts()
    {
        var (code, output, _) = Run("models", "list", "--json");
        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(output);
        var byName = json.RootElement.EnumerateArray().ToDictionary(e => e.GetProperty("name").GetString()!);
        foreach (string name in new[] { "resnet18", "resnet18-cifar", "mobilenetv2", "mobilenetv2-cifar", "vgg16bn", "swin-t", "lenet5", "mlp" })
            Assert.True(byName.ContainsKey(name), name);
        Assert.Equal(11_689_512, byName["resnet18"].GetProperty("params").GetInt64());
        Assert.Equal(35, byName["mobilenetv2"].GetProperty("activations").GetInt32());
    }
}
