using System.CommandLine;
using DepthPrune.Models;

namespace DepthPrune.Cli.Commands;

public static class ModelsCommand
{
    public static Command Create(TextWriter output)
    {
        Option<bool> listJson = CommonOptions.Json();
        var list = new Command("list", "Every model with its parameter count and activations at the reference configuration") { listJson };
        list.SetAction(parsed =>
        {
            var rows = ModelZoo.All.Select(entry =>
            {
                using var model = entry.Create(entry.Reference);
                long parameters = model.Net.parameters().Sum(p => p.numel());
                return new
                {
                    name = entry.Name, description = entry.Description, @params = parameters,
                    activations = model.Slots.Count, activation_kind = model.Slots.Values.First().Kind.ToString(),
                    depth = model.Structure.Depth(), classes = entry.Reference.Classes, input = entry.Reference.InputSize,
                };
            }).ToList();
            if (parsed.GetValue(listJson)) output.WriteLine(JsonOut.Serialize(rows));
            else
            {
                output.WriteLine($"{"name",-18} {"params",12} {"acts",5} {"depth",5}  description");
                foreach (var r in rows) output.WriteLine($"{r.name,-18} {r.@params,12:N0} {r.activations,5} {r.depth,5}  {r.description} ({r.classes} classes, {r.input}x{r.input})");
            }
            return CliApp.Ok;
        });

        var show = new Command("show", "Structure and cost of one model configuration");
        var modelArgs = new ModelArgs(show);
        Option<bool> showJson = CommonOptions.Json();
        show.Options.Add(showJson);
        show.SetAction(parsed =>
        {
            using var model = modelArgs.Create(parsed);
            var cost = ModelCost.Measure(model);
            var pairs = model.Structure.PruningPairs().ToDictionary(p => p.Slot);
            var report = new
            {
                name = model.Name, classes = model.Options.Classes, in_channels = model.Options.InChannels, width = model.Options.Width,
                input = model.Options.InputSize, @params = cost.Parameters, macs = cost.Macs, depth = cost.Depth,
                activations = model.Structure.Activations.Select(slot => new { name = slot, kind = model.Slots[slot].Kind.ToString(), neurons = model.Slots[slot].Channels, fed_by = pairs.GetValueOrDefault(slot)?.Layer.Module ?? "(a region's mixed outputs)" }).ToList(),
            };
            if (parsed.GetValue(showJson)) output.WriteLine(JsonOut.Serialize(report));
            else
            {
                output.WriteLine($"{report.name}: {report.@params:N0} parameters, {report.macs:N0} MACs at {report.input}x{report.input}, depth {report.depth}");
                foreach (var a in report.activations) output.WriteLine($"  {a.name,-28} {a.kind,-6} {a.neurons,6} neurons  <- {a.fed_by}");
            }
            return CliApp.Ok;
        });
        return new Command("models", "The model zoo") { list, show };
    }
}
