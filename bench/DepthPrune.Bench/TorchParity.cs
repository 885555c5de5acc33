using System.Diagnostics;
using System.Globalization;
using DepthPrune.Data;
using DepthPrune.Models;
using DepthPrune.Runtime;
using DepthPrune.Runtime.Isa;
using DepthPrune.Training;
using static TorchSharp.torch;

namespace DepthPrune.Bench;

/// <summary>Our half of bench/torch-parity: one timed training epoch through the real Trainer
/// (loader hand-off, dispose scopes, optimizer step) and one eval pass, on the same tensors that
/// the PyTorch half reads (CIFAR-10 images, normalised, no augmentation, written once as raw float32).</summary>
static class TorchParity
{
    /// <summary>args: model width data-dir tensor-dir train-images batch.</summary>
    public static void Run(string[] args)
    {
        string model = args[0], dataDir = args[2], tensorDir = args[3];
        double width = double.Parse(args[1], CultureInfo.InvariantCulture);
        int images = int.Parse(args[4], CultureInfo.InvariantCulture), batch = int.Parse(args[5], CultureInfo.InvariantCulture);
        using var loaded = DataBundle.Load(new DataOptions("cifar10", dataDir, TrainSubset: images));
        // The PyTorch half trains on these tensors as they are: no augmentation on either side.
        using var data = new DataBundle
        {
            Name = loaded.Name, Train = loaded.Train, Test = loaded.Test, Mean = loaded.Mean, Std = loaded.Std,
            TrainPipeline = loaded.EvalPipeline, EvalPipeline = loaded.EvalPipeline,
        };
        WriteTensors(data, tensorDir);

        Seeding.Seed(0);
        using var net = ModelZoo.Create(model, new ModelOptions(Classes: 10, InChannels: 3, Width: width, InputSize: 32));
        var options = new TrainOptions { Epochs = 1, BatchSize = batch, LearningRate = 0.01, Momentum = 0.9, WeightDecay = 1e-4, Schedule = ScheduleKind.Constant };
        var evalLoader = data.EvalLoader(data.Test, 256, Compute.Cpu);
        Trainer.Fit(net, Warmup(data, batch), options, Compute.Cpu, new TrainHooks());   // first-call costs (oneDNN JIT, allocator)
        Evaluation.Run(net, data.EvalLoader(Warmup(data, batch).Train, 256, Compute.Cpu));

        var clock = Stopwatch.StartNew();
        Trainer.Fit(net, data, options, Compute.Cpu, new TrainHooks());
        double train = clock.Elapsed.TotalSeconds;
        clock.Restart();
        EvalResult eval = Evaluation.Run(net, evalLoader);
        double evalSeconds = clock.Elapsed.TotalSeconds;
        long parameters = net.Net.parameters().Sum(p => p.numel());
        Console.WriteLine(FormattableString.Invariant(
            $"ours {model} w{width} params={parameters} train_ips={data.Train.Count / train:F1} eval_ips={eval.Samples / evalSeconds:F1} isa={IsaSelection.Current.Isa} threads={get_num_threads()}"));
    }

    static DataBundle Warmup(DataBundle data, int batch) => new()
    {
        Name = data.Name, Train = data.Train.Subset(Enumerable.Range(0, 3 * batch).Select(i => (long)i).ToList(), "warm-up"), Test = data.Test,
        Mean = data.Mean, Std = data.Std, TrainPipeline = data.TrainPipeline, EvalPipeline = data.EvalPipeline,
    };

    /// <summary>train.f32/train.i64/test.f32/test.i64: the normalised images [N,3,32,32] and labels.</summary>
    static void WriteTensors(DataBundle data, string directory)
    {
        if (File.Exists(Path.Combine(directory, "test.i64"))) return;
        Directory.CreateDirectory(directory);
        foreach (var (name, set) in new[] { ("train", data.Train), ("test", data.Test) })
        {
            using var images = File.Create(Path.Combine(directory, name + ".f32"));
            foreach (Batch b in data.EvalLoader(set, 1000, Compute.Cpu).Epoch(0))
                using (b)
                    images.Write(b.Inputs.contiguous().bytes);
            File.WriteAllBytes(Path.Combine(directory, name + ".i64"), set.Labels.SelectMany(BitConverter.GetBytes).ToArray());
        }
    }
}
