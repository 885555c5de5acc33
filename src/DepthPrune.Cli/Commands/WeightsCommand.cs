using System.CommandLine;
using DepthPrune.Models.Import;
using DepthPrune.Runtime;
using DepthPrune.Training;

namespace DepthPrune.Cli.Commands;

public static class WeightsCommand
{
    public static Command Create(TextWriter output)
    {
        var import = new Command("import", "Load pretrained weights (.pt/.pth, .safetensors with torchvision names, or a conv/BN ONNX graph) into a zoo model and save a checkpoint");
        var modelArgs = new ModelArgs(import, required: true);
        Option<string> weights = PathOptions.InputFile("--weights", "Weight file (.pt, .pth, .safetensors or .onnx)");
        Option<string> outFile = PathOptions.OutputFile("--out", "Checkpoint to write", required: true);
        Option<string[]> ignore = new("--ignore") { Description = "Key prefixes to leave out (e.g. fc. for a new classifier)", AllowMultipleArgumentsPerToken = true };
        Option<bool> json = CommonOptions.Json();
        foreach (Option o in new Option[] { weights, outFile, ignore, json }) import.Options.Add(o);
        import.SetAction(parsed =>
        {
            using var model = modelArgs.Create(parsed);
            string path = parsed.GetValue(weights)!;
            var edits = StructuralEdits.Read(path, model);
            Checkpoint.ApplySlotStates(model, edits, StructuralEdits.SidecarPath(path), Compute.Cpu.Device);
            var report = Path.GetExtension(path).Equals(".onnx", StringComparison.OrdinalIgnoreCase)
                ? OnnxConvBnImport.Apply(model, path, parsed.GetValue(ignore))
                : StateDictFile.Apply(model, StateDictFile.Read(path), path, parsed.GetValue(ignore));
            Checkpoint.Save(parsed.GetValue(outFile)!, model, new CheckpointMeta { Model = model.Name, ModelOptions = model.Options, Complete = true, Stage = "imported" });
            if (parsed.GetValue(json))
                output.WriteLine(JsonOut.Serialize(new { source = report.Source, loaded = report.Loaded, missing = report.Missing, unexpected = report.Unexpected, mismatched = report.Mismatched, slot_edits = edits.Count, checkpoint = parsed.GetValue(outFile) }));
            else output.WriteLine($"{report.Describe()}{(edits.Count > 0 ? $", {edits.Count} activation edits from {StructuralEdits.SidecarPath(path)}" : "")} -> {parsed.GetValue(outFile)}");
            return CliApp.Ok;
        });

        var export = new Command("export", "Write a checkpoint's weights as a PyTorch state_dict (.pt) or .safetensors with torchvision names, and its activation edits as FILE.slots.json");
        Option<string> checkpoint = PathOptions.InputFile("--checkpoint", "Checkpoint to read");
        Option<string> target = PathOptions.OutputFile("--out", "File to write (.pt, .pth or .safetensors)", required: true, ".pt", ".pth", ".safetensors");
        export.Options.Add(checkpoint);
        export.Options.Add(target);
        export.SetAction(parsed =>
        {
            string file = parsed.GetValue(target)!;
            using var loaded = Checkpoint.Load(parsed.GetValue(checkpoint)!, Compute.Cpu);
            StateDictFile.Write(loaded.Model, file);
            int edits = StructuralEdits.Write(loaded.Model, file);
            output.WriteLine($"{loaded.Model.Net.state_dict().Count} tensors -> {file}" +
                (edits > 0 ? $"; {edits} activation edits (removed, masked or thinned) -> {StructuralEdits.SidecarPath(file)}: keep it beside the weights, weights import reads it" : ""));
            return CliApp.Ok;
        });
        return new Command("weights", "Import and export weights") { import, export };
    }
}
