using DepthPrune.Folding;
using DepthPrune.Models;
using DepthPrune.Models.Import;
using static TorchSharp.torch;

namespace DepthPrune.Tests.Models;

/// <summary>torchvision's ResNet-18 and MobileNetV2 imported from ONNX against the zoo's
/// own twins given the same weights (the exporter folded BatchNorm into the convs; the
/// zoo keeps it).</summary>
public class OnnxZooTwinTests
{
    [Theory]
    [InlineData("resnet18", "resnet18", 8)]
    [InlineData("mobilenet_v2", "mobilenetv2", 16)]
    public void Imported_and_zoo_networks_with_the_same_weights_agree_on_entropies_removals_and_folded_depth(string file, string zooName, int removals)
    {
        var fixture = new OnnxFixture(file + ".opset13");
        using var imported = fixture.Import();
        using var zoo = ModelZoo.Create(zooName, new ModelOptions(Classes: 10, InChannels: 3, Width: 0.25, InputSize: 32));
        string weights = Path.Combine(Foundation.PackageTests.RepoRoot(), "tests", "fixtures", "onnx", file + ".pt");
        StateDictFile.Apply(zoo, StateDictFile.Read(weights), weights);

        using var x = fixture.InputTensor();
        var ours = OnnxFixture.MeasureInExecutionOrder(imported, x).Select(l => (Site: l.Name, l.Entropy)).ToList();
        var twin = OnnxFixture.MeasureInExecutionOrder(zoo, x).Select(l => (Site: l.Name, l.Entropy)).ToList();
        Assert.Equal(twin.Count, ours.Count);
        for (int i = 0; i < ours.Count; i++)
            Assert.True(Math.Abs(ours[i].Entropy - twin[i].Entropy) < 1e-4, $"{ours[i].Site} vs {twin[i].Site}: {ours[i].Entropy} vs {twin[i].Entropy}");

        // EASIER removes the lowest-entropy sites: the same ones (by position) in both.
        int[] Lowest(List<(string Site, double Entropy)> sites) => sites.Select((s, i) => (s.Entropy, i)).OrderBy(p => p).Take(removals).Select(p => p.i).Order().ToArray();
        Assert.Equal(Lowest(twin), Lowest(ours));
        foreach (int i in Lowest(ours))
        {
            imported.Slots[ours[i].Site].SetIdentity();
            zoo.Slots[twin[i].Site].SetIdentity();
        }
        Assert.Equal(zoo.LinearDepth(), imported.LinearDepth());
        Assert.True(imported.LinearDepth() < imported.Structure.Depth());
        int Folded(ZooModel model) => Folder.Depth(Folder.Fold(Folder.Compile(model), FoldPolicy.Depth).Stages);
        Assert.Equal(Folded(zoo), Folded(imported));
    }
}
