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
        Option<string> checkpoint = CommonOptions.Checkpoint(), device = CommonOptions.Device();
        Option<int> batchSize = CommonOptions.Positive("--batch-size", "Probe batch size", 256);
        Option<bool> json = CommonOptions.Json();
        command.Options.Add(checkpoint);
        var estimatorSetting = Methods.MethodSettings.Named("estimator");
        var estimator = new SettingOptions(command, [(estimatorSetting, null)]);
        command.Options.Add(batchSize);
        var dataArgs = new DataArgs(command);
        command.Options.Add(json);
        command.Options.Add(device);
        command.SetAction(parsed =>
        {
            using var job = CheckpointOnData.Open(parsed, checkpoint, dataArgs, device);
            var (loaded, data, compute) = (job.Loaded, job.Data, job.Compute);
            var chosen = estimator.Resolve(parsed, "entropy", Methods.MethodSettings.Defaults);
            var layers = EntropyProbe.Measure(loaded.Model, data.ProbeLoader(parsed.GetValue(batchSize), compute), chosen.Estimator);
            var report = new
            {
                checkpoint = parsed.GetValue(checkpoint), dataset = data.Name, samples = data.Train.Count, held_out = data.Validation?.Count ?? 0, estimator = estimatorSetting.Format(chosen),
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
                output.WriteLine($"{data.Name}: {data.Train.Count:N0} training images probed" +
                    (data.Validation is { } v ? $" ({v.Count:N0} held out for validation; --val-split 0 probes them too)" : ""));
                output.WriteLine($"{"layer",-28} {"neurons",7} {"H_l",7} {"on",5} {"off",5}  mode");
                foreach (var l in report.layers) output.WriteLine($"{l.name,-28} {l.neurons,7} {l.entropy,7:F4} {l.always_on,5} {l.always_off,5}  {l.mode}");
            }
            return CliApp.Ok;
        });
        return command;
    }
}
