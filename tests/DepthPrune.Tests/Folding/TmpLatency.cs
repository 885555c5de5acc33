using DepthPrune.Export;
using DepthPrune.Folding;
using DepthPrune.Models;
using DepthPrune.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;
using Xunit.Abstractions;
namespace DepthPrune.Tests.Folding;
public class TmpLatency(ITestOutputHelper output)
{
    void Measure(string label, ZooModel model, FoldPolicy policy)
    {
        var compiled = Folder.Compile(model);
        var (stages, steps) = Folder.Fold(Folder.Compile(model), policy);
        using var folded = new FoldedNet(stages);
        var points = DeployedLatency.Measure(model, compiled, folded, stages, Compute.Cpu.Device, 30);
        output.WriteLine($"{label} {policy} depth {model.Structure.Depth()}->{Folder.Depth(stages)} macs {compiled.OfType<AffineStage>().Sum(a => a.Layer.Macs)} " +
            string.Join("  ", points.Select(p => $"{p.Runtime}/b{p.Batch}: {p.OriginalMs:F3}->{p.FoldedMs:F3} ({p.Ratio:F2}x)")));
    }

    [Theory]
    [InlineData("mobilenetv2-cifar", 0.25, 1, 28)]
    [InlineData("mobilenetv2-cifar", 0.5, 1, 28)]
    [InlineData("mobilenetv2-cifar", 0.25, 3, 32)]
    public void Mobile(string name, double width, int channels, int size)
    {
        Seeding.Seed(1);
        using var model = ModelZoo.Create(name, new ModelOptions(Classes: 10, InChannels: channels, Width: width, InputSize: size));
        model.Net.eval();
        foreach (var slot in model.Slots.Where(s => s.Key.Contains(".conv."))) slot.Value.SetIdentity();
        Measure($"{name} w{width} {size}px all-blocks", model, FoldPolicy.Macs);
        foreach (var slot in model.Slots.Where(s => s.Key.Contains(".conv.") && int.Parse(s.Key.Split('.')[1]) > 8)) slot.Value.SetNonlinear();
        Measure($"{name} w{width} {size}px blocks1-8", model, FoldPolicy.Macs);
    }

    [Theory]
    [InlineData(0.25, 1, 28)]
    [InlineData(0.125, 1, 28)]
    public void Resnet(double width, int channels, int size)
    {
        Seeding.Seed(1);
        using var model = ModelZoo.Create("resnet18-cifar", new ModelOptions(Classes: 10, InChannels: channels, Width: width, InputSize: size));
        model.Net.eval();
        foreach (var slot in model.Slots.Where(s => s.Key.EndsWith("relu1"))) slot.Value.SetIdentity();
        Measure($"resnet w{width} all relu1", model, FoldPolicy.Depth);
        Measure($"resnet w{width} all relu1", model, FoldPolicy.Macs);
        foreach (var slot in model.Slots.Where(s => s.Key.EndsWith("relu1"))) slot.Value.SetNonlinear();
        using (no_grad())
            foreach (var b in new[] { "layer1.1", "layer2.1", "layer3.1", "layer4.1" }) ((Conv2d)model.Module(b + ".conv2")).weight!.zero_();
        Measure($"resnet w{width} 4 blocks constant", model, FoldPolicy.Exact);
        using (no_grad())
            foreach (var b in new[] { "layer1.0" }) ((Conv2d)model.Module(b + ".conv2")).weight!.zero_();
        Measure($"resnet w{width} 5 blocks constant", model, FoldPolicy.Exact);
        foreach (var slot in model.Slots.Where(s => s.Key.EndsWith("relu1"))) slot.Value.SetIdentity();
        Measure($"resnet w{width} 5 blocks constant + relu1s", model, FoldPolicy.Depth);
    }
}
