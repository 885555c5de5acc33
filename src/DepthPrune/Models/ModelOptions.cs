namespace DepthPrune.Models;

/// <summary>The knobs every zoo model takes. Width scales channel counts (narrow CPU variants);
/// InputSize is the square input side used for counting and for models that need it (Swin-T).</summary>
public sealed record ModelOptions(int Classes = 1000, int InChannels = 3, double Width = 1.0, int InputSize = 224)
{
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
