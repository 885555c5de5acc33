using DepthPrune.Entropy;
using DepthPrune.Models;
using static TorchSharp.torch;

namespace DepthPrune.Tests.Models;

/// <summary>Networks exported by PyTorch, imported: same outputs as ONNX Runtime and PyTorch,
/// same rectifier statistics as PyTorch's on the same images.</summary>
public class OnnxImportTests
{
    [Theory]
    [MemberData(nameof(OnnxFixture.All), MemberType = typeof(OnnxFixture))]
    public void Imported_network_computes_what_onnx_runtime_and_pytorch_compute(string name)
    {
        var fixture = new OnnxFixture(name);
        using var model = fixture.Import();
        model.Net.eval();
        using var noGrad = no_grad();
        using var x = fixture.InputTensor();
        using var y = model.Net.call(x);
        float[] ours = y.data<float>().ToArray();
        Assert.True(OnnxFixture.RelativeError(ours, fixture.RunInOnnxRuntime(fixture.Path)) < 1e-4);
        Assert.True(OnnxFixture.RelativeError(ours, fixture.Logits) < 1e-4);
    }

    [Theory]
    [MemberData(nameof(OnnxFixture.All), MemberType = typeof(OnnxFixture))]
    public void Rectifier_statistics_equal_pytorch_site_by_site(string name)
    {
        var fixture = new OnnxFixture(name);
        using var model = fixture.Import();
        var sites = model.Structure.Activations;
        Assert.Equal(fixture.Rectifiers.Count, sites.Count);
        var counters = sites.ToDictionary(s => s, s => new NeuronCounter(model.Slots[s].Channels, false));
        var byExecution = new List<string>();
        try
        {
            foreach (var s in sites) model.Slots[s].Observer = new InOrder(s, counters[s], byExecution);
            model.Net.eval();
            using var noGrad = no_grad();
            using var x = fixture.InputTensor();
            using var y = model.Net.call(x);
            Assert.Equal(sites.Count, byExecution.Count);
            for (int i = 0; i < byExecution.Count; i++)
            {
                var ours = counters[byExecution[i]].Result(byExecution[i], EntropyEstimator.Dataset);
                var reference = fixture.Rectifiers[i];
                Assert.Equal(reference.Neurons, ours.Neurons);
                Assert.True(Math.Abs(reference.Entropy - ours.Entropy) < 1e-4, $"{byExecution[i]}: entropy {ours.Entropy} vs PyTorch {reference.Entropy}");
                Assert.True(reference.OnFraction.Zip(ours.OnFraction, (a, b) => Math.Abs(a - b)).Max() < 1e-3, $"{byExecution[i]}: ON fractions differ");
            }
        }
        finally
        {
            foreach (var s in sites) model.Slots[s].Observer = null;
            foreach (var c in counters.Values) c.Dispose();
        }
    }

    /// <summary>PyTorch lists rectifier calls in execution order: so does this.</summary>
    sealed class InOrder(string name, IActivationObserver inner, List<string> order) : IActivationObserver
    {
        public void Observe(Tensor preActivation, int channelDim)
        {
            order.Add(name);
            inner.Observe(preActivation, channelDim);
        }
    }
}
