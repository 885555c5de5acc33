using System.CommandLine;
using DepthPrune.Data;

namespace DepthPrune.Cli.Commands;

public static class DataCommand
{
    public static Command Create(TextWriter output)
    {
        var inspect = new Command("inspect", "Read a data set and report its sizes, classes, shape and channel statistics");
        var dataArgs = new DataArgs(inspect);
        Option<bool> json = CommonOptions.Json();
        inspect.Options.Add(json);
        inspect.SetAction(parsed =>
        {
            using DataBundle bundle = DataBundle.Load(dataArgs.Read(parsed, seed: 0));
            var report = new
            {
                dataset = bundle.Name,
                train = bundle.Train.Count,
                validation = bundle.Validation?.Count ?? 0,
                test = bundle.Test.Count,
                classes = bundle.Classes,
                class_names = bundle.Train.Classes,
                shape = bundle.SampleShape,
                mean = bundle.Mean.Select(v => Math.Round(v, 5)).ToArray(),
                std = bundle.Std.Select(v => Math.Round(v, 5)).ToArray(),
                train_pipeline = bundle.TrainPipeline.Describe(),
                eval_pipeline = bundle.EvalPipeline.Describe(),
            };
            if (parsed.GetValue(json)) output.WriteLine(JsonOut.Serialize(report));
            else
            {
                output.WriteLine($"dataset   {report.dataset}");
                output.WriteLine($"train     {report.train}   validation {report.validation}   test {report.test}");
                output.WriteLine($"classes   {report.classes}: {string.Join(", ", report.class_names)}");
                output.WriteLine($"shape     [{string.Join(",", report.shape)}]");
                output.WriteLine($"mean      [{string.Join(", ", report.mean)}]");
                output.WriteLine($"std       [{string.Join(", ", report.std)}]");
                output.WriteLine($"train     {report.train_pipeline}");
                output.WriteLine($"eval      {report.eval_pipeline}");
            }
            return CliApp.Ok;
        });
        return new Command("data", "Data-set tools") { inspect };
    }
}
