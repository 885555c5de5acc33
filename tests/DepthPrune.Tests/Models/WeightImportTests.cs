using DepthPrune.Models;
using DepthPrune.Models.Import;
using DepthPrune.Runtime;
using Microsoft.ML.OnnxRuntime;
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;
using Tensor = TorchSharp.torch.Tensor;
using static TorchSharp.torch;

namespace DepthPrune.Tests.Models;

public class WeightImportTests
{
    static ZooModel Narrow(int seed, double width = 0.125)
    {
        Seeding.Seed(seed);
        return ModelZoo.Create("resnet18-cifar", new ModelOptions(Classes: 10, Width: width, InputSize: 32));
    }

    static Tensor Logits(ZooModel model, Tensor x)
    {
        model.Net.eval();
        using var noGrad = no_grad();
        return model.Net.forward(x);
    }

    [Theory]
    [InlineData("weights.safetensors")]
    [InlineData("weights.pt")]
    public void Exported_state_dict_imports_back_to_identical_outputs(string file)
    {
        using var dir = new TempDir();
        using var source = Narrow(1);
        using (no_grad())   // non-trivial BatchNorm statistics, so buffers are checked too
            foreach (var (name, buffer) in source.Net.named_buffers()) if (name.EndsWith("running_var")) buffer.uniform_(0.5, 2);
        StateDictFile.Write(source, dir[file]);
        using var target = Narrow(2);
        var report = StateDictFile.Apply(target, StateDictFile.Read(dir[file]), file);
        Assert.True(report.Complete);
        Assert.Equal(source.Net.state_dict().Count, report.Loaded);
        using var x = randn(2, 3, 32, 32);
        Assert.True(Logits(source, x).equal(Logits(target, x)).all().item<bool>());
    }

    [Fact]
    public void Wrong_shapes_are_named_and_leave_the_model_unchanged()
    {
        using var dir = new TempDir();
        using var wide = Narrow(1, width: 0.25);
        StateDictFile.Write(wide, dir["wide.safetensors"]);
        using var narrow = Narrow(2);
        using var x = randn(1, 3, 32, 32);
        using var before = Logits(narrow, x);
        var e = Assert.Throws<DataFormatException>(() => StateDictFile.Apply(narrow, StateDictFile.Read(dir["wide.safetensors"]), "wide.safetensors"));
        Assert.Contains("mis-shaped", e.Message);
        Assert.Contains("conv1.weight [16,3,3,3] vs model [8,3,3,3]", e.Message);
        Assert.True(before.equal(Logits(narrow, x)).all().item<bool>());
    }

    [Fact]
    public void Unreadable_weight_files_are_reported_by_path()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["junk.safetensors"], "junk");
        Assert.Contains("junk.safetensors", Assert.Throws<DataFormatException>(() => StateDictFile.Read(dir["junk.safetensors"])).Message);
        Assert.Contains("--weights", Assert.Throws<UsageException>(() => StateDictFile.Read(dir["none.pt"])).Message);
    }

    [Fact]
    public void Onnx_imported_resnet18_matches_onnx_runtime_on_the_same_input()
    {
        string onnx = Path.Combine(AppContext.BaseDirectory, "Assets", "ResNet18.onnx");
        // The graph ends at global average pooling (512 features): an identity classifier exposes them.
        // That graph's stage 4 has three blocks (22 convs), hence the resnet18-cntk layout.
        using var model = ModelZoo.Create("resnet18-cntk", new ModelOptions(Classes: 512));
        var report = OnnxConvBnImport.Apply(model, onnx, ignore: ["fc."]);   // the graph has no classifier
        Assert.Equal(22 + 22 * 4, report.Loaded);   // 22 convs (no bias) + 22 BatchNorms x 4 tensors
        var fc = (TorchSharp.Modules.Linear)model.Module("fc");
        using (no_grad()) { fc.weight!.copy_(eye(512)); fc.bias!.zero_(); }

        var random = new Random(7);
        float[] input = Enumerable.Range(0, 3 * 224 * 224).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        using var session = new InferenceSession(onnx);
        string inputName = session.InputMetadata.Keys.Single();
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(inputName, new DenseTensor(input, [1, 3, 224, 224]))]);
        float[] expected = results.First().AsEnumerable<float>().ToArray();

        using var x = tensor(input).reshape(1, 3, 224, 224);
        float[] ours = Logits(model, x).data<float>().ToArray();
        Assert.Equal(512, expected.Length);
        double maxError = ours.Zip(expected, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(maxError < 1e-4, $"max |ours - onnxruntime| = {maxError}");
        Assert.True(expected.Max() > 0.1, "features are not trivially zero");
    }

    /// <summary>lenet5's ONNX export has two convs and three Linear layers: the conv/BN walk fills 4
    /// of its 10 tensors, which must be refused by name, not saved as a half-random model.</summary>
    /// <summary>A seeded LeNet-5 and its ONNX export (no activation removed), written to `path`.</summary>
    internal static ZooModel ExportedLeNet(string path, Action<ZooModel>? edit = null)
    {
        Seeding.Seed(1);
        var model = ModelZoo.Create("lenet5", new ModelOptions(Classes: 10, InChannels: 1, InputSize: 28));
        edit?.Invoke(model);
        DepthPrune.Export.OnnxExport.Write(DepthPrune.Export.OnnxExport.Build(DepthPrune.Folding.Folder.Compile(model), model.Options, model.Name), path);
        return model;
    }

    [Fact]
    public void Onnx_import_that_leaves_tensors_unfilled_or_reads_NaN_is_refused()
    {
        using var dir = new TempDir();
        using var model = ExportedLeNet(dir["m.onnx"]);
        var e = Assert.Throws<DataFormatException>(() => OnnxConvBnImport.Apply(model, dir["m.onnx"]));
        Assert.Contains("4 tensors loaded; 6 missing: fc1.weight, fc1.bias, fc2.weight, fc2.bias, fc3.weight, fc3.bias", e.Message);
        Assert.Equal(4, OnnxConvBnImport.Apply(model, dir["m.onnx"], ignore: ["fc"]).Loaded);

        using var nan = ExportedLeNet(dir["nan.onnx"], m => { using (no_grad()) ((TorchSharp.Modules.Conv2d)m.Module("conv2")).weight![0, 0, 0, 0].fill_(float.NaN); });
        Assert.Contains("conv2.weight holds NaN", Assert.Throws<DataFormatException>(() => OnnxConvBnImport.Apply(model, dir["nan.onnx"], ignore: ["fc"])).Message);
    }

    [Fact]
    public void A_state_dict_with_NaN_is_refused()
    {
        using var model = ModelZoo.Create("lenet5", new ModelOptions(Classes: 10, InChannels: 1, InputSize: 28));
        var weights = model.Net.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        weights["fc2.bias"][3].fill_(float.PositiveInfinity);
        var e = Assert.Throws<DataFormatException>(() => StateDictFile.Apply(model, weights, "w.safetensors"));
        Assert.Contains("w.safetensors: fc2.bias holds NaN or infinite values", e.Message);
    }

    [Fact]
    public void Onnx_graph_that_does_not_fit_the_model_is_refused()
    {
        string onnx = Path.Combine(AppContext.BaseDirectory, "Assets", "ResNet18.onnx");
        using var model = ModelZoo.Create("resnet18", new ModelOptions(Width: 0.25));
        var e = Assert.Throws<DataFormatException>(() => OnnxConvBnImport.Apply(model, onnx));
        Assert.Contains("does not fit resnet18: kxk convs: model has 17, ResNet18.onnx has 19", e.Message);
    }
}
