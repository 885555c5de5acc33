using DepthPrune.Models;
using DepthPrune.Runtime;
using static TorchSharp.torch;

namespace DepthPrune.Tests.Models;

public class ModelZooTests
{
    [Theory]
    [InlineData("resnet18", 11_689_512, 17)]
    [InlineData("mobilenetv2", 3_504_872, 35)]
    [InlineData("vgg16bn", 138_365_992, 15)]
    [InlineData("swin-t", 28_288_354, 12)]
    public void Torchvision_configurations_have_torchvisions_parameter_counts(string name, long parameters, int activations)
    {
        using var model = ModelZoo.Create(name, new ModelOptions());
        Assert.Equal(parameters, model.Net.parameters().Sum(p => p.numel()));
        Assert.Equal(activations, model.Slots.Count);
    }

    [Theory]
    [InlineData("resnet18-cifar", 3, 32)]
    [InlineData("resnet18", 3, 64)]
    [InlineData("mobilenetv2-cifar", 3, 32)]
    [InlineData("vgg16bn", 3, 32)]
    [InlineData("swin-t", 3, 32)]
    [InlineData("lenet5", 1, 28)]
    [InlineData("mlp", 1, 28)]
    public void Narrow_variants_run_forward_and_backward(string name, int channels, int size)
    {
        Seeding.Seed(1);
        using var model = ModelZoo.Create(name, new ModelOptions(Classes: 7, InChannels: channels, Width: 0.125, InputSize: size));
        using var x = randn(2, channels, size, size);
        using var y = model.Net.forward(x);
        Assert.Equal(new long[] { 2, 7 }, y.shape);
        y.sum().backward();
        Assert.All(model.Net.parameters(), p => Assert.NotNull(p.grad));
    }

    [Fact]
    public void Resnet_block_activations_pair_with_the_main_path_never_the_shortcut()
    {
        using var model = ModelZoo.Create("resnet18-cifar", new ModelOptions(Classes: 10, Width: 0.125, InputSize: 32));
        var pairs = model.Structure.PruningPairs().ToDictionary(p => p.Slot, p => p.Layer);
        Assert.Equal("layer2.0.conv2", pairs["layer2.0.relu2"].Module);
        Assert.Equal("layer2.0.bn2", pairs["layer2.0.relu2"].Norm);
        Assert.Equal("layer2.0.conv1", pairs["layer2.0.relu1"].Module);
        Assert.Equal("conv1", pairs["relu"].Module);
        Assert.DoesNotContain(pairs.Values, l => l.Module.Contains("downsample") || l.Module == "fc");
        Assert.Equal(18, model.Structure.Depth());
    }

    [Fact]
    public void Lenet_macs_match_a_hand_count()
    {
        using var model = ModelZoo.Create("lenet5", new ModelOptions(Classes: 10, InChannels: 1, InputSize: 28));
        var cost = ModelCost.Measure(model);
        // conv1 28*28*6*25 + conv2 10*10*16*150 + fc 400*120 + 120*84 + 84*10
        Assert.Equal(117_600 + 240_000 + 48_000 + 10_080 + 840, cost.Macs);
        Assert.Equal(61_706, cost.Parameters);
        Assert.Equal(5, cost.Depth);
    }

    [Theory]
    [InlineData("resnet18", 1.81)]
    [InlineData("mobilenetv2", 0.30)]
    [InlineData("vgg16bn", 15.47)]
    [InlineData("swin-t", 4.49)]   // includes the attention matrix products
    public void Reference_macs_match_torchvisions_published_gflops(string name, double gmacs)
    {
        using var model = ModelZoo.Create(name, new ModelOptions());
        Assert.Equal(gmacs, ModelCost.Measure(model).Macs / 1e9, 2);
    }

    [Fact]
    public void Resnet18_cifar_macs_match_a_hand_count()
    {
        using var model = ModelZoo.Create("resnet18-cifar", new ModelOptions(Classes: 10, InputSize: 32));
        // stem 32*32*64*27; layer1 4 x 32*32*64*64*9; layers 2-4 each 18,874,368 + 3 x 37,748,736 + a 1x1 shortcut 2,097,152; fc 5120
        long expected = 1_769_472 + 150_994_944 + 3 * 134_217_728L + 5_120;
        Assert.Equal(expected, ModelCost.Measure(model).Macs);
    }

    [Fact]
    public void Linear_depth_folds_chains_that_lost_their_non_linearity()
    {
        using var mlp = ModelZoo.Create("mlp", new ModelOptions(Classes: 10, InChannels: 1, InputSize: 8, Width: 0.0625));
        Assert.Equal(4, mlp.LinearDepth());
        mlp.Slots["relu2"].SetIdentity();
        Assert.Equal(3, mlp.LinearDepth());          // fc2 and fc3 fold into one
        mlp.Slots["relu1"].SetIdentity();
        mlp.Slots["relu3"].SetIdentity();
        Assert.Equal(1, mlp.LinearDepth());          // the whole net is one linear map

        using var resnet = ModelZoo.Create("resnet18-cifar", new ModelOptions(Classes: 10, Width: 0.125, InputSize: 32));
        resnet.Slots["layer1.0.relu1"].SetIdentity();
        Assert.Equal(17, resnet.LinearDepth());      // conv1 and conv2 of that block fold; shortcut joins in

        using var stem = ModelZoo.Create("resnet18-cifar", new ModelOptions(Classes: 10, Width: 0.125, InputSize: 32));
        stem.Slots["relu"].SetIdentity();
        Assert.Equal(18, stem.LinearDepth());        // the stem conv cannot fold into layer1.0.conv1: the shortcut needs its output
    }

    [Fact]
    public void Unknown_model_and_bad_width_are_usage_errors()
    {
        Assert.Contains("--model 'resnet50'", Assert.Throws<UsageException>(() => ModelZoo.Create("resnet50", new ModelOptions())).Message);
        Assert.Contains("--width", Assert.Throws<UsageException>(() => ModelZoo.Create("mlp", new ModelOptions(Width: 0))).Message);
    }

    [Fact]
    public void Every_slot_swaps_between_its_modes()
    {
        var slot = new ActivationSlot("s", ActivationKind.ReLU6, 2, 1);
        using var x = tensor(new float[] { -1, 7, 3, -2 }).reshape(1, 2, 2, 1);
        Assert.Equal(new float[] { 0, 6, 3, 0 }, slot.forward(x).data<float>().ToArray());
        slot.SetChannelMask([1f, 0f]);
        Assert.Equal(new float[] { -1, 7, 0, 0 }, slot.forward(x).data<float>().ToArray());
        slot.SetPReLU(0.5f, CPU);
        Assert.Equal(new float[] { -0.5f, 7, 3, -1 }, slot.forward(x).data<float>().ToArray());
        Assert.Single(slot.parameters());
        slot.SetIdentity();
        Assert.Empty(slot.parameters());
        Assert.Equal(new float[] { -1, 7, 3, -2 }, slot.forward(x).data<float>().ToArray());
    }
}
