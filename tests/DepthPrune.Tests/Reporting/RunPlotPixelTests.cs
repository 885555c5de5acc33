using DepthPrune.Methods;
using DepthPrune.Reporting;
using SkiaSharp;

namespace DepthPrune.Tests.Reporting;

/// <summary>The plots read back as pictures: the data drawn must show in the pixels, not only a
/// PNG of some size. Colours are the plots' own: Viridis for heat maps (its ends are
/// #440154 and #FDE725), ScottPlot's first series colour #1F77B4 for lines.</summary>
public class RunPlotPixelTests
{
    static int PixelsNear(byte[] png, SKColor colour, int tolerance = 24)
    {
        using var bitmap = SKBitmap.Decode(png);
        int count = 0;
        for (int y = 0; y < bitmap.Height; y++)
            for (int x = 0; x < bitmap.Width; x++)
            {
                var p = bitmap.GetPixel(x, y);
                if (Math.Abs(p.Red - colour.Red) + Math.Abs(p.Green - colour.Green) + Math.Abs(p.Blue - colour.Blue) <= tolerance) count++;
            }
        return count;
    }

    static RunRecord Run(params (int Removed, double Top1, Dictionary<string, double> Entropies)[] iterations) => new()
    {
        Method = "easier", Model = "mlp", Dataset = "quadrants",
        Dense = new IterationRecord { Removed = 0, Top1 = 90 },
        Iterations = [.. iterations.Select((it, k) => new IterationRecord { Iteration = k + 1, Removed = it.Removed, Top1 = it.Top1, Entropies = it.Entropies })],
    };

    static readonly SKColor ViridisLow = new(0x44, 0x01, 0x54), ViridisHigh = new(0xFD, 0xE7, 0x25), FirstSeries = new(0x1F, 0x77, 0xB4);

    [Fact]
    public void A_heat_map_shows_the_lowest_and_the_highest_value_as_the_colormap_ends()
    {
        var checkerboard = Run((1, 90, new() { ["a"] = 0, ["b"] = 1 }), (2, 89, new() { ["a"] = 1, ["b"] = 0 }));
        byte[] png = RunPlots.LayerHeatmap(checkerboard, i => i.Entropies, "entropy", "bits");
        // Four cells in a plot of 900 x 520: each end colour fills two of them (thousands of pixels);
        // the colour bar alone holds a few hundred of each.
        Assert.True(PixelsNear(png, ViridisLow) > 5000, $"{PixelsNear(png, ViridisLow)} dark pixels");
        Assert.True(PixelsNear(png, ViridisHigh) > 5000, $"{PixelsNear(png, ViridisHigh)} bright pixels");

        var allLow = Run((1, 90, new() { ["a"] = 0.2, ["b"] = 0.2 }), (2, 89, new() { ["a"] = 0.2, ["b"] = 0.2 }));
        byte[] flat = RunPlots.LayerHeatmap(allLow, i => i.Entropies, "entropy", "bits");
        Assert.True(PixelsNear(flat, ViridisHigh) < PixelsNear(png, ViridisHigh) / 4, "a flat map has no bright cells");
    }

    [Fact]
    public void A_removed_activation_is_drawn_as_removed_not_as_an_entropy()
    {
        var run = Run((1, 90, new() { ["a"] = 1, ["b"] = 1 }), (2, 89, new() { ["a"] = 1, ["b"] = 1 }));
        run = run with { Iterations = [run.Iterations[0] with { RemovedNames = ["a"] }, run.Iterations[1] with { RemovedNames = ["a", "b"] }] };
        var grey = new SKColor(RunPlots.RemovedColor.R, RunPlots.RemovedColor.G, RunPlots.RemovedColor.B);
        byte[] marked = RunPlots.LayerHeatmap(run, i => i.Entropies, "entropy", "bits", markRemoved: true);
        byte[] plain = RunPlots.LayerHeatmap(run, i => i.Entropies, "entropy", "bits");
        // Three of the four cells are removed: grey fills thousands of pixels, and the one kept cell
        // stays the colormap's colour; unmarked, no cell is grey.
        Assert.True(PixelsNear(marked, grey, 6) > 3 * PixelsNear(plain, grey, 6) + 5000, $"{PixelsNear(marked, grey, 6)} grey pixels marked, {PixelsNear(plain, grey, 6)} plain");
        Assert.True(PixelsNear(plain, grey, 6) < 2000);
    }

    [Fact]
    public void A_line_plot_draws_its_series()
    {
        byte[] drawn = RunPlots.AgainstRemoved([("easier", Run((1, 90, []), (2, 80, []), (3, 70, [])))], i => i.Top1, "top-1", "%");
        byte[] empty = RunPlots.AgainstRemoved([], i => i.Top1, "top-1", "%");
        Assert.True(PixelsNear(drawn, FirstSeries) > 100, $"{PixelsNear(drawn, FirstSeries)} line pixels");
        Assert.True(PixelsNear(empty, FirstSeries) < 10);
    }
}
