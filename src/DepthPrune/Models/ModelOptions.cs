namespace DepthPrune.Models;

/// <summary>The knobs every zoo model takes. Width scales channel counts (narrow CPU variants);
/// InputSize is the square input side used for counting and for models that need it (Swin-T).</summary>
public sealed record ModelOptions(int Classes = 1000, int InChannels = 3, double Width = 1.0, int InputSize = 224)
{
    /// <summary>What models are built for: more is a mistyped flag or a damaged file, not a network.</summary>
    public const int MaxClasses = 100_000, MaxInChannels = 64, MinInputSize = 8, MaxInputSize = 4096;
    public static string MaxClassesText => MaxClasses.ToString("N0", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Refuses input channels or an input side outside those bounds; where prefixes the
    /// message (the file that asks, or nothing for a zoo model).</summary>
    public static void RequireInput(long channels, long side, string where)
    {
        if (channels is < 1 or > MaxInChannels) throw new Runtime.UsageException($"{where}input channels {channels}: need 1 to {MaxInChannels}");
        if (side is < MinInputSize or > MaxInputSize) throw new Runtime.UsageException($"{where}input size {side}: need {MinInputSize} to {MaxInputSize}");
    }

    public int Scale(int channels, int divisor = 1) =>
        Math.Max(divisor, (int)(Math.Round(channels * Width / divisor) * divisor));

    /// <summary>Refuses, naming the option, a model whose classes, input channels or input side do
    /// not match a data set's images ([C,H,W]) and classes (which would fail deep in libtorch).</summary>
    public void RequireFits(string model, string dataset, long[] sampleShape, int classes)
    {
        void Require(bool ok, string option, object have, object need)
        {
            if (!ok) throw new Runtime.UsageException($"{option} {have}: {model} would not fit --dataset {dataset}, whose images are [{string.Join(",", sampleShape)}] in {classes} classes (needs {option} {need})");
        }
        Require(Classes == classes, "--classes", Classes, classes);
        Require(InChannels == sampleShape[0], "--in-channels", InChannels, sampleShape[0]);
        Require(InputSize == sampleShape[1] && sampleShape[1] == sampleShape[2], "--input-size", InputSize, sampleShape[1]);
    }
}
