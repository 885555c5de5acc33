namespace DepthPrune.Models;

/// <summary>The knobs every zoo model takes. Width scales channel counts (narrow CPU variants);
/// InputSize is the square input side used for counting and for models that need it (Swin-T).</summary>
public sealed record ModelOptions(int Classes = 1000, int InChannels = 3, double Width = 1.0, int InputSize = 224)
{
    public int Scale(int channels, int divisor = 1) =>
        Math.Max(divisor, (int)(Math.Round(channels * Width / divisor) * divisor));
}
