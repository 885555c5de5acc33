using System.Diagnostics;
using System.Text.Json;
using DepthPrune.Models;
using DepthPrune.Runtime.Isa;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DepthPrune.ConvCheck;

/// <summary>The body of the check process: under the ONEDNN_MAX_CPU_ISA its parent set, compares every
/// geometry of <see cref="ConvCheckSet"/> with float64 and prints one JSON object (a <see cref="ConvCheckReport"/>).</summary>
public static class ConvCheckChild
{
    public static int Run(TextWriter output)
    {
        var clock = Stopwatch.StartNew();
        string isa = Environment.GetEnvironmentVariable(IsaSelection.Variable) ?? "ALL";
        bool sweep = Environment.GetEnvironmentVariable(ConvCheckProcess.SetVariable) == "sweep";
        var single = sweep ? Geometries(ConvCheckSet.SweepModels, ConvCheckSet.SweepBatches) : Geometries();
        // Each geometry at one thread, then at the process's count: oneDNN splits work differently
        // (one CPU's AVX2 kernels corrupted the heap at one thread and spun forever at two).
        int threads = get_num_threads();
        var geometries = threads == 1 ? single.Select(g => (Geometry: g, Threads: 1)).ToList()
            : [.. single.Select(g => (Geometry: g, Threads: 1)), .. single.Select(g => (Geometry: g, Threads: threads))];
        var failures = new List<ConvCheckFailure>();
        double worst = 0;
        var faults = (Environment.GetEnvironmentVariable(ConvCheckProcess.FaultVariable) ?? "").Split(',');
        if (faults.Contains(isa + ":crash")) Process.GetCurrentProcess().Kill();   // SIGKILL: exit 137
        if (faults.Contains(isa + ":throw")) throw new InvalidOperationException("injected fault of the check itself");
        bool injected = faults.Contains(isa);
        for (int i = 0; i < geometries.Count; i++)
        {
            var (geometry, geometryThreads) = geometries[i];
            // Each geometry is named before it runs: the parent's sign of progress, and what a crash or stall points at.
            Console.Error.WriteLine($"{ConvCheckProcess.ProgressPrefix}{i + 1}/{geometries.Count}: {geometry}, {geometryThreads} thread(s)");
            if (get_num_threads() != geometryThreads) set_num_threads(geometryThreads);
            ConvErrors errors = ConvErrors.Measure(geometry, seed: 1000 + i);
            if (injected && i == 0) errors = errors with { InputGradient = 0.5 };
            worst = double.IsNaN(errors.Worst) ? double.NaN : Math.Max(worst, errors.Worst);
            if (!errors.Agrees) failures.Add(new ConvCheckFailure($"{geometry}, {geometryThreads} thread(s)", errors.Forward, errors.InputGradient, errors.WeightGradient));
        }
        var report = new ConvCheckReport(isa, geometries.Count, worst, clock.Elapsed.TotalSeconds, failures);
        output.WriteLine(JsonSerializer.Serialize(report, ConvCheckReport.Json));
        return 0;
    }

    /// <summary>The fixed geometries, then each distinct conv of the listed models at each batch size, in each layout.</summary>
    public static IReadOnlyList<ConvGeometry> Geometries() => Geometries(ConvCheckSet.Models, ConvCheckSet.Batches);

    public static IReadOnlyList<ConvGeometry> Geometries(IEnumerable<(string Model, double Width, int InChannels, int Size)> models, int[] batches)
    {
        var found = new List<ConvGeometry>(ConvCheckSet.Fixed);
        foreach (var (model, width, inChannels, size) in models)
            foreach (ConvGeometry layer in Trace(model, new ModelOptions(Classes: 10, InChannels: inChannels, InputSize: size, Width: width)))
                foreach (int batch in batches)
                    found.Add(layer with { Batch = batch });
        return found.Distinct().SelectMany(g => ConvCheckSet.Layouts.Select(last => g with { ChannelsLast = last })).ToList();
    }

    /// <summary>Every conv layer's geometry, read from one forward pass with hooks.</summary>
    public static IEnumerable<ConvGeometry> Trace(string model, ModelOptions options)
    {
        using var scope = NewDisposeScope();
        ZooModel zoo = ModelZoo.Create(model, options);
        var layers = new List<ConvGeometry>();
        var removers = new List<Action>();
        foreach (var (_, module) in zoo.Net.named_modules())
            if (module is Conv2d conv)
                removers.Add(ModelCost.Hook(conv, (m, input, y) =>
                {
                    layers.Add(new ConvGeometry(1, (int)input.shape[1], (int)y.shape[1], (int)input.shape[2],
                        (int)conv.weight!.shape[2], (int)conv.stride[0], (int)conv.padding![0], (int)conv.groups));
                    return y;
                }));
        zoo.Net.eval();
        using (no_grad())
            zoo.Net.forward(zeros(2, options.InChannels, options.InputSize, options.InputSize));
        foreach (var remove in removers) remove();
        zoo.Net.Dispose();
        return layers.Distinct();
    }
}

