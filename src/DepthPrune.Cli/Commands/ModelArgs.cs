using System.CommandLine;
using DepthPrune.Models;
using DepthPrune.Models.Graph;

namespace DepthPrune.Cli.Commands;

/// <summary>The model flags shared by commands that build a model.</summary>
public sealed class ModelArgs
{
    readonly Option<string> model;
    readonly Option<string> onnxModel = PathOptions.InputFile("--onnx-model", "Your own network: an ONNX classifier (image batch in, class scores out) to use instead of --model", required: false);
    readonly Option<double> width = NumberOptions.WithDefault("--width", "Width multiplier for channel counts (narrow CPU variants)", 1.0, v => v is > 0 and <= 4, "must lie in (0,4]");
    readonly Option<int?> classes = NumberOptions.Optional<int>("--classes", "Number of classes (default: the model's reference, or the data set's)", v => v is >= 2 and <= ModelOptions.MaxClasses, $"need 2 to {ModelOptions.MaxClassesText}");
    readonly Option<int?> inChannels = NumberOptions.Optional<int>("--in-channels", "Input channels (default: the model's reference, or the data set's)", v => v is >= 1 and <= ModelOptions.MaxInChannels, $"need 1 to {ModelOptions.MaxInChannels}");
    readonly Option<int?> inputSize = NumberOptions.Optional<int>("--input-size", "Square input side used for counting (default: the reference, or the data set's)", v => v is >= ModelOptions.MinInputSize and <= ModelOptions.MaxInputSize, $"need {ModelOptions.MinInputSize} to {ModelOptions.MaxInputSize}");

    /// <summary>Every command that builds a model defaults to the same one; a command that must be
    /// told (a weight file fits only its own architecture) passes required.</summary>
    public const string DefaultModel = "lenet5";

    public ModelArgs(Command command, bool required = false)
    {
        model = new Option<string>("--model")
        {
            Description = "Model: " + string.Join(", ", ModelZoo.All.Select(e => e.Name)),
        };
        if (!required) model.DefaultValueFactory = _ => DefaultModel;
        model.Validators.Add(r =>
        {
            string name = r.GetValueOrDefault<string>();
            if (ModelZoo.All.All(e => e.Name != name))
                r.AddError($"--model '{name}': unknown; expected one of {string.Join(", ", ModelZoo.All.Select(e => e.Name))}");
        });
        foreach (Option option in new Option[] { model, onnxModel, width, classes, inChannels, inputSize }) command.Options.Add(option);
        command.Validators.Add(r =>
        {
            bool onnx = r.GetResult(onnxModel) is { Implicit: false };
            if (onnx && r.GetResult(model) is { Implicit: false })
                r.AddError("--model and --onnx-model: give one; --onnx-model replaces the zoo model");
            if (onnx)
                foreach (var option in new Option[] { width, inChannels })
                    if (r.GetResult(option) is { Implicit: false })
                        r.AddError($"{option.Name}: an imported network keeps the widths and input channels of its file; leave {option.Name} out");
        });
    }

    /// <summary>The ONNX file given with --onnx-model, or null for a zoo model.</summary>
    public string? OnnxPath(ParseResult parsed) => parsed.WasGiven(onnxModel) ? parsed.GetValue(onnxModel) : null;

    public string Name(ParseResult parsed) => OnnxPath(parsed) is { } path ? OnnxImport.ModelName(path)
        : parsed.GetValue(model) ?? throw new Runtime.UsageException("--model or --onnx-model is required");

    /// <summary>Refuses a model flag typed on the command line that contradicts the model a
    /// checkpoint holds (the checkpoint decides the model; the same value typed again is fine).</summary>
    public void RequireSameAs(ParseResult parsed, Training.CheckpointMeta meta, string source)
    {
        void Check(Option option, object typed, object held, bool same)
        {
            if (parsed.WasGiven(option) && !same)
                throw new Runtime.UsageException($"{option.Name} {typed}: {source} holds {meta.Model} with {option.Name} {held}; leave {option.Name} out (the checkpoint decides) or pass the same");
        }
        var o = meta.ModelOptions;
        Check(model, Name(parsed), meta.Model, Name(parsed) == meta.Model);
        Check(width, parsed.GetValue(width), o.Width, parsed.GetValue(width) == o.Width);
        Check(classes, parsed.GetValue(classes)!, o.Classes, parsed.GetValue(classes) == o.Classes);
        Check(inChannels, parsed.GetValue(inChannels)!, o.InChannels, parsed.GetValue(inChannels) == o.InChannels);
        Check(inputSize, parsed.GetValue(inputSize)!, o.InputSize, parsed.GetValue(inputSize) == o.InputSize);
    }

    /// <summary>Options from flags, falling back to the data set's shape, then to the reference.</summary>
    public ModelOptions Options(ParseResult parsed, int? dataClasses = null, long[]? dataShape = null, double? presetWidth = null)
    {
        if (OnnxPath(parsed) is { } path)
        {
            using var imported = Import(parsed, path, dataShape);
            return imported.Options;
        }
        var reference = ModelZoo.Get(Name(parsed)).Reference;
        return new ModelOptions(
            parsed.GetValue(classes) ?? dataClasses ?? reference.Classes,
            parsed.GetValue(inChannels) ?? (int?)dataShape?[0] ?? reference.InChannels,
            !parsed.WasGiven(width) && presetWidth is double w ? w : parsed.GetValue(width),
            parsed.GetValue(inputSize) ?? (int?)dataShape?[1] ?? reference.InputSize);
    }

    public ZooModel Create(ParseResult parsed, int? dataClasses = null, long[]? dataShape = null, double? presetWidth = null) =>
        OnnxPath(parsed) is { } path
            ? Import(parsed, path, dataShape)
            : ModelZoo.Create(Name(parsed), Options(parsed, dataClasses, dataShape, presetWidth));

    /// <summary>An imported network: its file decides all but a free input side and a new head (--classes).</summary>
    ZooModel Import(ParseResult parsed, string path, long[]? dataShape) =>
        OnnxImport.Read(path, parsed.GetValue(inputSize) ?? (int?)dataShape?[1], parsed.GetValue(classes));
}
