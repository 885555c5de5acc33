using System.CommandLine;
using DepthPrune.Data;
using DepthPrune.Entropy;
using DepthPrune.Runtime;
using DepthPrune.Training;
using TorchSharp;

namespace DepthPrune.Cli.Commands;

public static class EntropyCommand
{
    public static Command Create(TextWriter output)
    {
        var command = new Command("entropy", "Entropy of every activation layer of a checkpoint, over a data set's training split");
        Option<string> checkpoint = new("--checkpoint") { Description = "A checkpoint written by train or a method", Required = true };
        Option<string> estimator = CommonOptions.Estimator();
        Option<int> batchSize = new("--batch-size") { Description = "Probe batch size", DefaultValueFactory = _ => 256 };
        batchSize.Validators.Add(r => { if (r.GetValueOrDefault<int>() <= 0) r.AddError("--batch-size: must be positive"); });
        command.Options.Add(checkpoint);
        command.Options.Add(estimator);
        command.Options.Add(batchSize);
        var dataArgs = new DataArgs(command);
        Option<bool> json = CommonOptions.Json();
        Option<string> device = CommonOptions.Device();
        command.Options.Add(json);
        command.Options.Add(device);
        command.SetAction(parsed =>
        {
            var compute = Compute.Parse(parsed.GetValue(device)!);
            using var loaded = Checkpoint.Load(parsed.GetValue(checkpoint)!, compute);
            var dataOptions = dataArgs.Read(parsed, seed: loaded.Meta.Data?.Seed ?? 0);
            if (!parsed.WasGiven(dataArgs.DatasetOption) && loaded.Meta.Data is not null) dataOptions = loaded.Meta.Data;
            using var data = DataBundle.Load(dataOptions);
            if (!data.SampleShape.SequenceEqual(new long[] { loaded.Model.Options.InChannels, loaded.Model.Options.InputSize, loaded.Model.Options.InputSize }))
                throw new UsageException($"--dataset {data.Name}: images are [{string.Join(",", data.SampleShape)}], the checkpoint's model takes [{loaded.Model.Options.InChannels},{loaded.Model.Options.InputSize},{loaded.Model.Options.InputSize}]");
            var kind = CommonOptions.ParseEstimator(parsed.GetValue(estimator)!)!.Value;
            var layers = EntropyProbe.Measure(loaded.Model, data.ProbeLoader(parsed.GetValue(batchSize), compute), kind);
            var report = new
            {
                checkpoint = parsed.GetValue(checkpoint), dataset = data.Name, samples = data.Train.Count, estimator = parsed.GetValue(estimator),
                layers = layers.Select(l => new
                {
                    name = l.Name, neurons = l.Neurons, entropy = l.Entropy, always_on = l.AlwaysOn, always_off = l.AlwaysOff,
                    mode = loaded.Model.Slots[l.Name].Mode.ToString().ToLowerInvariant(),
                    dataset_entropy = l.DatasetEntropy, batch_mean_entropy = l.BatchMeanEntropy, nonconstant_entropy = l.NonConstantEntropy,
                    observations_per_neuron = l.ObservationsPerNeuron,
                }).ToList(),
            };
            if (parsed.GetValue(json)) output.WriteLine(JsonOut.Serialize(report));
            else
            {
                output.WriteLine($"{"layer",-28} {"neurons",7} {"H_l",7} {"on",5} {"off",5}  mode");
                foreach (var l in report.layers) output.WriteLine($"{l.name,-28} {l.neurons,7} {l.entropy,7:F4} {l.always_on,5} {l.always_off,5}  {l.mode}");
            }
            return CliApp.Ok;
        });
        return command;
    }
}
