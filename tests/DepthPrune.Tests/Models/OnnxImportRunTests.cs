using DepthPrune.Data;
using DepthPrune.Data.Transforms;
using DepthPrune.Export;
using DepthPrune.Folding;
using DepthPrune.Methods;
using DepthPrune.Runtime;
using DepthPrune.Training;
using static TorchSharp.torch;

namespace DepthPrune.Tests.Models;

/// <summary>Test networks through the method loop, one of each kind of structure the CLI test
/// (ResNet-18) does not cover: a 2-iteration EASIER run from the imported weights, its best checkpoint reloaded (from the ONNX file the checkpoint keeps), folded, exported
/// and run in ONNX Runtime.</summary>
public class OnnxImportRunTests
{
    /// <summary>Random RGB images in 10 classes at the network's input size.</summary>
    static DataBundle RandomImages(int side)
    {
        ImageSet Make(int n, int seed)
        {
            var random = new Random(seed);
            var pixels = new byte[n * 3 * side * side];
            random.NextBytes(pixels);
            return ImageSet.FromBytes(pixels, [n, 3, side, side], Enumerable.Range(0, n).Select(i => (long)(i % 10)).ToArray(),
                Enumerable.Range(0, 10).Select(c => $"c{c}").ToArray(), "random");
        }
        var train = Make(40, 1);
        var normalize = new Normalize([0.5f, 0.5f, 0.5f], [0.25f, 0.25f, 0.25f]);
        return new DataBundle
        {
            Name = "random", Train = train, Test = Make(20, 2), Validation = Make(20, 3), Mean = [0.5, 0.5, 0.5], Std = [0.25, 0.25, 0.25],
            TrainPipeline = new Pipeline([normalize]), EvalPipeline = new Pipeline([normalize]),
        };
    }

    [Theory]
    [InlineData("shufflenet_v2.opset13")]        // split, concat and channel-shuffle regions
    [InlineData("mobilenet_v3_small.opset13")]   // squeeze-and-excitation regions inside residual blocks
    [InlineData("convnext.opset13")]             // GELU in its Erf form, decomposed LayerNorm, token linears
    [InlineData("prelu_net.opset13")]            // PReLU slopes per channel and per layer, trained with the rest
    public void Easier_runs_two_iterations_and_the_best_checkpoint_folds_and_exports(string name)
    {
        var fixture = new OnnxFixture(name);
        using var data = RandomImages((int)fixture.InputShape[2]);
        using var dir = new TempDir();
        var record = MethodRun.Run(DepthMethod.Create("easier"), new MethodRunSetup
        {
            OutDir = dir.Path, Data = data, DataOptions = new DataOptions("random"), Compute = Compute.Cpu,
            CreateModel = () => { Seeding.Seed(3); return fixture.Import(); },
            Pretrain = new TrainOptions { Epochs = 1, BatchSize = 20, LearningRate = 0.001, Seed = 3 },
            Options = new MethodOptions { Finetune = new TrainOptions { Epochs = 1, BatchSize = 20, LearningRate = 0.001, Seed = 3 }, MaxIterations = 2, Tolerance = 100, Seed = 3 },
        });
        Assert.Equal(2, record.Iterations.Count);

        using var best = Checkpoint.Load(record.BestCheckpoint!, Compute.Cpu);
        Assert.Equal(record.Iterations[^1].Removed, best.Model.Slots.Values.Count(s => s.IsLinear));
        best.Model.Net.eval();
        var (stages, _) = Folder.Fold(Folder.Compile(best.Model), FoldPolicy.Exact);
        OnnxExport.Write(OnnxExport.Build(stages, best.Model.Options, best.Model.Name, null, best.Model.InputName, best.Model.OutputName), dir["best.onnx"]);
        using var noGrad = no_grad();
        using var x = fixture.InputTensor();
        using var y = best.Model.Net.call(x);
        Assert.True(OnnxFixture.RelativeError(fixture.RunInOnnxRuntime(dir["best.onnx"]), y.data<float>().ToArray()) < 1e-4);
    }
}
