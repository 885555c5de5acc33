using System.Text.Json;
using DepthPrune.Models.Graph;
using DepthPrune.Runtime;
using DepthPrune.Tests.Data;
using DepthPrune.Training;
using Onnx;
using static DepthPrune.Tests.Foundation.CliConventionTests;
using static TorchSharp.torch;

namespace DepthPrune.Tests.Models;

/// <summary>--onnx-model through the command line: a method run, its checkpoints, fold and export;
/// and the files and flags it refuses.</summary>
public class OnnxImportCliTests
{
    static void WriteCifar(TempDir dir)
    {
        for (int b = 1; b <= 5; b++) SyntheticFiles.WriteCifarBatch(dir[$"cifar/data_batch_{b}.bin"], 12, (b - 1) * 12);
        SyntheticFiles.WriteCifarBatch(dir["cifar/test_batch.bin"], 16, 100);
    }

    [Fact]
    public void Easier_on_an_imported_network_runs_folds_and_exports_what_its_best_checkpoint_computes()
    {
        const string name = "resnet18.opset17";
        using var dir = new TempDir();
        Directory.CreateDirectory(dir["cifar"]);
        WriteCifar(dir);
        var fixture = new OnnxFixture(name);
        var (code, _, err) = Run("easier", "--onnx-model", fixture.Path, "--dataset", "cifar10", "--data", dir["cifar"], "--val-split", "0",
            "--pretrain-epochs", "1", "--finetune-epochs", "1", "--batch-size", "16", "--max-iterations", "2", "--tolerance", "100",
            "--fold", "exact", "--out", dir["run"], "--quiet");
        Assert.True(code == 0, err);
        using var run = JsonDocument.Parse(File.ReadAllText(dir["run/run.json"]));
        Assert.Equal(OnnxImport.ModelName(fixture.Path), run.RootElement.GetProperty("model").GetString());
        Assert.Equal(2, run.RootElement.GetProperty("iterations").GetArrayLength());
        Assert.DoesNotContain("model: lenet5", File.ReadAllText(dir["run/config.yaml"]));   // the zoo's default would contradict --onnx-model

        // The checkpoint rebuilds the imported network on its own (no path to the file is needed).
        string best = run.RootElement.GetProperty("best_checkpoint").GetString()!;
        using var loaded = Checkpoint.Load(best, Compute.Cpu);
        Assert.Equal(2, loaded.Model.Slots.Values.Count(s => s.IsLinear));
        loaded.Model.Net.eval();
        using var noGrad = no_grad();
        using var x = fixture.InputTensor();
        using var y = loaded.Model.Net.call(x);
        Assert.True(OnnxFixture.RelativeError(fixture.RunInOnnxRuntime(dir["run/best.onnx"]), y.data<float>().ToArray()) < 1e-4);
        // Deployed under the names the file gave its input and output.
        var deployed = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(dir["run/best.onnx"])).Graph;
        Assert.Equal(["image"], deployed.Input.Select(i => i.Name));
        Assert.Equal(["scores"], deployed.Output.Select(o => o.Name));
        // Timed beside the user's own file in ONNX Runtime, at both batch sizes (the file's batch is open).
        var fold = Assert.Single(DepthPrune.Reporting.FoldSummary.All(dir["run"]));
        int fileLayers = ModelProto.Parser.ParseFrom(File.ReadAllBytes(fixture.Path)).Graph.Node.Count(n => n.OpType is "Conv" or "Gemm" or "MatMul");
        var againstFile = fold.Deployed!.Where(p => p.Runtime == DepthPrune.Export.DeployedLatency.ImportedFile).ToList();
        Assert.Equal([1, 64], againstFile.Select(p => p.Batch));
        Assert.All(againstFile, p => Assert.True(p.OriginalMs > 0 && p.FoldedMs > 0 && p.OriginalLayers == fileLayers));
        // And beside the run's dense model (its own export): the latency the run saved.
        Assert.Equal([1, 64], fold.VersusDense!.Select(p => p.Batch));
        Assert.All(fold.VersusDense!, p => Assert.True(p.OriginalMs > 0 && p.FoldedMs > 0));
    }

    [Fact]
    public void A_file_with_a_fixed_batch_is_timed_only_at_that_batch()
    {
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(new OnnxFixture("resnet18.opset13").Path));
        var open = Google.Protobuf.MessageExtensions.ToByteArray(model);
        model.Graph.Input[0].Type.TensorType.Shape.Dim[0].DimValue = 1;
        model.Graph.Output[0].Type.TensorType.Shape.Dim[0].DimValue = 1;
        using var timing = new DepthPrune.Export.OnnxPairTiming(Google.Protobuf.MessageExtensions.ToByteArray(model), open, 1);
        Assert.True(timing.TakesBatch(1));
        Assert.False(timing.TakesBatch(64));
    }

    [Fact]
    public void An_operator_outside_the_set_is_refused_naming_node_op_and_file()
    {
        using var dir = new TempDir();
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(new OnnxFixture("resnet18.opset13").Path));
        var node = model.Graph.Node.First(n => n.OpType == "Relu");
        node.OpType = "Selu";
        File.WriteAllBytes(dir["odd.onnx"], Google.Protobuf.MessageExtensions.ToByteArray(model));
        var e = Assert.Throws<UsageException>(() => OnnxImport.Read(dir["odd.onnx"]));
        Assert.Contains("odd.onnx", e.Message);
        Assert.Contains($"'{node.Name}' (Selu)", e.Message);
        var (code, _, err) = Run("models", "show", "--onnx-model", dir["odd.onnx"]);
        Assert.Equal(2, code);
        Assert.Contains("(Selu) is not an operator DepthPrune imports", err);
    }

    [Fact]
    public void Files_and_flags_that_cannot_import_are_refused_by_name()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["text.onnx"], "not a protobuf at all \u0001\u0002");
        Assert.Contains("text.onnx: not an ONNX model", Assert.Throws<DataFormatException>(() => OnnxImport.Read(dir["text.onnx"])).Message);

        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(new OnnxFixture("resnet18.opset13").Path));
        model.Graph.Input.Add(model.Graph.Input[0].Clone());
        model.Graph.Input[1].Name = "second";
        File.WriteAllBytes(dir["two.onnx"], Google.Protobuf.MessageExtensions.ToByteArray(model));
        Assert.Contains("2 inputs (image, second)", Assert.Throws<UsageException>(() => OnnxImport.Read(dir["two.onnx"])).Message);

        string path = new OnnxFixture("resnet18.opset13").Path;
        var (code, _, err) = Run("models", "show", "--onnx-model", path, "--model", "resnet18");
        Assert.Equal(2, code);
        Assert.Contains("--model and --onnx-model: give one", err);
        (code, _, err) = Run("models", "show", "--onnx-model", path, "--width", "0.5");
        Assert.Equal(2, code);
        Assert.Contains("--width: an imported network keeps", err);
        (code, _, err) = Run("weights", "import", "--weights", path, "--out", dir["w.ckpt"]);
        Assert.Equal(2, code);
        Assert.Contains("--model or --onnx-model is required", err);
        (code, _, err) = Run("models", "show", "--onnx-model", dir["missing.onnx"]);
        Assert.Equal(2, code);
        Assert.Contains("missing.onnx", err);
        (code, _, err) = Run("models", "show", "--onnx-model", path, "--input-size", "64");
        Assert.Equal(2, code);
        Assert.Contains("--input-size 64", err);
    }
}
