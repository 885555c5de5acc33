using DepthPrune.Models;
using DepthPrune.Models.Import;
using DepthPrune.Runtime;
using DepthPrune.Training;
using static DepthPrune.Tests.Foundation.CliConventionTests;
using static TorchSharp.torch;

namespace DepthPrune.Tests.Models;

/// <summary>A method's checkpoint exported with `weights export` and read back with `weights import`
/// is the same network: removed, masked and thinned activations travel beside the weights.</summary>
public class StructuralEditsTests
{
    [Theory]
    [InlineData(".safetensors")]
    [InlineData(".pt")]
    public void A_pruned_checkpoint_survives_export_and_import(string extension)
    {
        using var dir = new TempDir();
        Seeding.Seed(3);
        var options = new ModelOptions(Classes: 10, InChannels: 1, Width: 0.125, InputSize: 28);
        using var model = ModelZoo.Create("resnet18-cifar", options);
        model.Slots["layer1.0.relu1"].SetIdentity();
        model.Slots["layer2.1.relu2"].SetIdentity();
        model.Slots["layer3.0.relu1"].SetIdentity();
        model.Slots["layer1.1.relu1"].SetChannelMask(Enumerable.Range(0, 8).Select(i => i % 3 == 0 ? 0f : 1f).ToArray());
        model.Slots["layer4.1.relu1"].SetAlive(Enumerable.Range(0, 64).Select(i => i < 40 ? 1f : 0f).ToArray());
        Checkpoint.Save(dir["method.ckpt"], model, new CheckpointMeta { Model = "resnet18-cifar", ModelOptions = options, Complete = true });

        string weights = dir["pruned" + extension];
        var (code, output, err) = Run("weights", "export", "--checkpoint", dir["method.ckpt"], "--out", weights);
        Assert.True(code == 0, err);
        Assert.Contains("5 activation edits", output);
        Assert.True(File.Exists(StructuralEdits.SidecarPath(weights)));

        (code, output, err) = Run("weights", "import", "--model", "resnet18-cifar", "--width", "0.125", "--classes", "10",
            "--in-channels", "1", "--input-size", "28", "--weights", weights, "--out", dir["back.ckpt"]);
        Assert.True(code == 0, err);
        Assert.Contains("5 activation edits", output);

        using var back = Checkpoint.Load(dir["back.ckpt"], Compute.Cpu);
        Assert.Equal(SlotMode.Identity, back.Model.Slots["layer2.1.relu2"].Mode);
        model.Net.eval();
        back.Model.Net.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = randn(4, 1, 28, 28);
        var expected = model.Net.forward(x);
        Assert.True(expected.allclose(back.Model.Net.forward(x), rtol: 0, atol: 1e-6));

        // Without the sidecar the same weights give another network (all ReLUs back): the edits matter.
        File.Delete(StructuralEdits.SidecarPath(weights));
        (code, _, err) = Run("weights", "import", "--model", "resnet18-cifar", "--width", "0.125", "--classes", "10",
            "--in-channels", "1", "--input-size", "28", "--weights", weights, "--out", dir["plain.ckpt"]);
        Assert.True(code == 0, err);
        using var plain = Checkpoint.Load(dir["plain.ckpt"], Compute.Cpu);
        plain.Model.Net.eval();
        Assert.False(expected.allclose(plain.Model.Net.forward(x), rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void A_sidecar_for_another_model_is_refused_by_name()
    {
        using var dir = new TempDir();
        using var lenet = ModelZoo.Create("lenet5", new ModelOptions(Classes: 10, InChannels: 1, InputSize: 28));
        lenet.Slots.First().Value.SetIdentity();
        StateDictFile.Write(lenet, dir["w.safetensors"]);
        StructuralEdits.Write(lenet, dir["w.safetensors"]);
        var (code, _, err) = Run("weights", "import", "--model", "mlp", "--weights", dir["w.safetensors"], "--out", dir["x.ckpt"]);
        Assert.Equal(2, code);
        Assert.Contains("was written for lenet5", err);
        Assert.False(File.Exists(dir["x.ckpt"]));
    }
}
