using DepthPrune.Export;
using DepthPrune.Folding;
using DepthPrune.Models;
using DepthPrune.Runtime;
using Microsoft.ML.OnnxRuntime;
using DepthPrune.Tests.Folding;
using static TorchSharp.torch;
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;
using Tensor = TorchSharp.torch.Tensor;

namespace DepthPrune.Tests.Export;

/// <summary>Exported models run in ONNX Runtime against the TorchSharp networks they came from.</summary>
public class OnnxExportTests
{
    static ZooModel Model(string name) => FoldableModels.Create(name, 0.125, seed: 11);

    /// <summary>Max difference between ONNX Runtime's logits and the reference's, relative to the largest logit.</summary>
    internal static float RelativeError(IReadOnlyList<FoldStage> stages, ZooModel model, nn.Module<Tensor, Tensor> reference)
    {
        using var dir = new TempDir();
        string path = dir["model.onnx"];
        OnnxExport.Write(OnnxExport.Build(stages, model.Options, model.Name), path);
        using var x = randn(3, model.Options.InChannels, model.Options.InputSize, model.Options.InputSize);
        using var session = new InferenceSession(path);
        var input = new DenseTensor(x.data<float>().ToArray(), x.shape.Select(d => (int)d).ToArray());
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(OnnxExport.Input, input)]);
        float[] onnx = results.Single().AsTensor<float>().ToArray();
        using var noGrad = no_grad();
        using var expected = reference.forward(x);
        float[] torch = expected.data<float>().ToArray();
        Assert.Equal(torch.Length, onnx.Length);
        return torch.Zip(onnx, (a, b) => Math.Abs(a - b)).Max() / torch.Max(Math.Abs);
    }

    [Theory]
    [MemberData(nameof(FoldableModels.Names), MemberType = typeof(FoldableModels))]
    public void Exported_model_computes_what_the_model_computes(string name)
    {
        using var model = Model(name);
        float error = RelativeError(Folder.Compile(model), model, model.Net);
        Assert.True(error < 1e-4f, $"relative error {error}");
    }

    [Fact]
    public void Masks_dead_neurons_and_prelu_export_as_the_slots_compute_them()
    {
        using var model = Model("resnet18-cifar");
        model.Slots["layer1.0.relu2"].SetChannelMask([1, 0, 1, 1, 0, 1, 1, 1]);   // after the add: stays a Mul
        model.Slots["layer2.0.relu1"].SetAlive([.. Enumerable.Range(0, 16).Select(i => i % 3 == 0 ? 0f : 1f)]);
        model.Slots["layer3.0.relu1"].SetPReLU(0.25f, Compute.Cpu.Device);
        float error = RelativeError(Folder.Compile(model), model, model.Net);
        Assert.True(error < 1e-4f, $"relative error {error}");
    }

    [Fact]
    public void Constant_main_path_exports_as_a_bias_add()
    {
        using var model = Model("resnet18-cifar");
        using (no_grad()) ((TorchSharp.Modules.Conv2d)model.Module("layer2.1.conv2")).weight!.zero_();
        var (stages, _) = Folder.Fold(Folder.Compile(model), FoldPolicy.Exact);
        Assert.Single(stages.OfType<BiasStage>());
        float error = RelativeError(stages, model, model.Net);
        Assert.True(error < 1e-4f, $"relative error {error}");
    }

    [Fact]
    public void Folded_network_exports_with_its_merged_layers()
    {
        using var model = Model("resnet18-cifar");
        foreach (string slot in new[] { "relu", "layer1.0.relu1", "layer1.0.relu2", "layer2.0.relu1" }) model.Slots[slot].SetIdentity();
        var (stages, steps) = Folder.Fold(Folder.Compile(model), FoldPolicy.Depth);
        Assert.NotEmpty(steps);
        using var folded = new FoldedNet(stages);
        float error = RelativeError(stages, model, folded);
        Assert.True(error < 1e-4f, $"relative error {error}");
    }
}

/// <summary>A residual branch pruned away whole (NEPENTHE's latency objective) leaves nothing in
/// the deployed graph: no zero bias add, and no ReLU repeating the one before the block.</summary>
public class VanishedBlockExportTests
{
    [Fact]
    public void A_block_pruned_away_whole_leaves_no_trace_in_the_deployed_graph()
    {
        using var model = FoldableModels.Create("resnet18-cifar", 0.125, seed: 11);
        using var masks = new DepthPrune.Pruning.PruningMasks();
        var block = model.Structure.Walk().OfType<ResidualNode>().ElementAt(1);   // layer1.1: identity shortcut, after layer1.0's ReLU
        masks.RemoveBranch(model, block);
        model.Net.eval();
        var unfolded = Folder.Compile(model);
        var (folded, _) = Folder.Fold(unfolded, FoldPolicy.Exact);
        int Count(IReadOnlyList<FoldStage> stages, string op) => OnnxExport.Build(stages, model.Options, model.Name).Graph.Node.Count(n => n.OpType == op);
        Assert.Equal(Count(unfolded, "Add") - 1, Count(folded, "Add"));     // the block's residual add
        Assert.Equal(Count(unfolded, "Relu") - 2, Count(folded, "Relu"));   // the branch's relu1 and the block's repeated relu2
        Assert.Equal(Count(unfolded, "Conv") - 2, Count(folded, "Conv"));
        Assert.DoesNotContain(folded, s => s is BiasStage);
        float error = OnnxExportTests.RelativeError(folded, model, model.Net);
        Assert.True(error < 1e-5f, $"relative error {error}");
    }
}
