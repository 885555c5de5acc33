using System.Text.Json;
using DepthPrune.Export;
using DepthPrune.Runtime;
using DepthPrune.Training;
using Microsoft.ML.OnnxRuntime;
using static DepthPrune.Tests.Foundation.CliConventionTests;
using static TorchSharp.torch;
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;

namespace DepthPrune.Tests.Foundation;

/// <summary>`compress`: from a model to train to a deployed ONNX file, in one command.</summary>
public class CompressTests
{
    [FashionMnistFact]
    public void Compress_trains_removes_folds_and_writes_an_onnx_file_that_computes_what_the_best_model_computes()
    {
        using var dir = new TempDir();
        var (code, output, err) = Run("compress", "--model", "mlp", "--width", "0.25", "--dataset", "fashion-mnist", "--train-subset", "2000",
            "--pretrain-epochs", "2", "--finetune-epochs", "1", "--max-iterations", "2", "--tolerance", "100", "--heal-epochs", "0", "--out", dir["run"], "--quiet");
        Assert.True(code == 0, err);
        using (var run = JsonDocument.Parse(File.ReadAllText(dir["run/run.json"])))
        {
            var r = run.RootElement;
            Assert.Equal("deploy", r.GetProperty("recipe").GetString());   // compress runs the deploy recipe unless told
            Assert.Equal("latency", r.GetProperty("objective").GetString());
            Assert.Equal("T=4, alpha=0.5", r.GetProperty("distill").GetString());
            Assert.Equal(2, r.GetProperty("iterations").GetArrayLength());
        }
        Assert.Contains("compress: mlp on fashion-mnist, dense against deployed", output);
        Assert.Contains("easier, deploy", output);
        Assert.Contains("ONNX Runtime batch 1", output);
        Assert.Contains("ONNX Runtime batch 64", output);
        string config = File.ReadAllText(dir["run/config.yaml"]);
        Assert.Contains("objective: latency", config);   // the recipe's values, resolved, so --config repeats the run

        // The oracle: ONNX Runtime on best.onnx against the best checkpoint's own network, on real test images.
        string best = JsonDocument.Parse(File.ReadAllText(dir["run/run.json"])).RootElement.GetProperty("best_checkpoint").GetString()!;
        using var loaded = Checkpoint.Load(best, Compute.Cpu);
        loaded.Model.Net.eval();
        using var x = rand(16, 1, 28, 28);
        using var session = new InferenceSession(dir["run/best.onnx"]);
        var input = new DenseTensor(x.data<float>().ToArray(), [16, 1, 28, 28]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(OnnxExport.Input, input)]);
        float[] onnx = results.Single().AsTensor<float>().ToArray();
        using var noGrad = no_grad();
        float[] torch = loaded.Model.Net.forward(x).data<float>().ToArray();
        float error = torch.Zip(onnx, (a, b) => Math.Abs(a - b)).Max() / torch.Max(Math.Abs);
        Assert.True(error < 1e-4f, $"best.onnx differs from the best model by {error} of the largest output");
        Assert.True(File.Exists(dir["run/dense.onnx"]));

        // A setting of the other method is refused by name.
        (code, _, err) = Run("compress", "--model", "mlp", "--dataset", "fashion-mnist", "--prune-ratio", "0.1", "--out", dir["other"]);
        Assert.Equal(2, code);
        Assert.Contains("--prune-ratio: easier does not take it", err);
    }
}
