using Onnx;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DepthPrune.Models.Graph;

/// <summary>One step of an imported graph: a module on one value (a weight layer, an activation
/// slot, a one-input op, an opaque region), or a node on several values (a residual add).</summary>
public sealed record GraphStep(IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs, Module<Tensor, Tensor>? Module, NodeProto? Node);

/// <summary>An imported ONNX graph, or one opaque region of it, as a TorchSharp module: runs its
/// steps in the file's order on named values. Its modules are registered under their own names,
/// so parameters are trained, saved and loaded like a zoo model's.</summary>
public sealed class GraphProgram : Module<Tensor, Tensor>
{
    public string Entry { get; }
    public string Exit { get; }
    public IReadOnlyList<GraphStep> Steps { get; }
    /// <summary>The file's constants that multi-input steps read.</summary>
    public IReadOnlyDictionary<string, Tensor> Constants { get; }

    internal GraphProgram(string name, string entry, string exit, IReadOnlyList<(string Name, GraphStep Step)> steps, IReadOnlyDictionary<string, Tensor> constants) : base(name)
    {
        Entry = entry;
        Exit = exit;
        Steps = steps.Select(s => s.Step).ToList();
        Constants = constants;
        foreach (var (stepName, step) in steps)
            if (step.Module is { } module) register_module(stepName, module);
        var lastUse = new Dictionary<string, int>();
        for (int i = 0; i < Steps.Count; i++)
            foreach (string input in Steps[i].Inputs) lastUse[input] = i;
        releaseAfter = Steps.Select((_, i) => lastUse.Where(u => u.Value == i && u.Key != Entry && u.Key != Exit && !constants.ContainsKey(u.Key)).Select(u => u.Key).ToList()).ToList();
    }

    /// <summary>Per step, the values no later step reads: released once it has run (held to the end
    /// of the pass, every intermediate map of a batch stayed allocated).</summary>
    readonly IReadOnlyList<List<string>> releaseAfter;

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var values = new Dictionary<string, Tensor> { [Entry] = x };
        Tensor? Value(string name) => name.Length == 0 ? null
            : values.TryGetValue(name, out var v) ? v
            : Constants.TryGetValue(name, out var c) ? (c.device == x.device ? c : values[name] = c.to(x.device))
            : throw new InvalidOperationException($"{GetName()}: value '{name}' is not computed before it is used");
        for (int s = 0; s < Steps.Count; s++)
        {
            var step = Steps[s];
            if (step.Module is { } module)
                values[step.Outputs[0]] = module.call(Value(step.Inputs[0])!);
            else
            {
                var outputs = OnnxOps.Run(step.Node!, step.Inputs.Select(Value).ToList());
                for (int i = 0; i < outputs.Length; i++)
                    if (step.Outputs[i].Length > 0) values[step.Outputs[i]] = outputs[i];
            }
            foreach (string done in releaseAfter[s])
                if (values.Remove(done, out var t) && !values.Values.Any(v => ReferenceEquals(v, t))) t.Dispose();   // an op may hand its input on as its output
        }
        return values[Exit].MoveToOuterDisposeScope();
    }
}
