using DepthPrune.Data;
using DepthPrune.Folding;
using Microsoft.ML.OnnxRuntime;
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;
using Tensor = TorchSharp.torch.Tensor;
using static TorchSharp.torch;

namespace DepthPrune.Export;

/// <summary>Runs an exported model in ONNX Runtime over a data set and compares its outputs with
/// the network it was exported from (or the original model).</summary>
public static class OnnxCheck
{
    public static OutputComparison Compare(string onnxPath, nn.Module<Tensor, Tensor> reference, BatchLoader loader)
    {
        using var session = new InferenceSession(onnxPath);
        reference.eval();
        return OutputTally.Over(loader, reference.forward, x => Run(session, x));
    }

    static Tensor Run(InferenceSession session, Tensor x)
    {
        using var inputs = x.cpu().contiguous();
        var input = new DenseTensor(inputs.data<float>().ToArray(), inputs.shape.Select(d => (int)d).ToArray());
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(session.InputMetadata.Keys.Single(), input)]);
        var logits = results.First(r => r.Name == session.OutputMetadata.Keys.Single()).AsTensor<float>();
        return tensor(logits.ToArray(), logits.Dimensions.ToArray().Select(d => (long)d).ToArray());
    }
}
