using DepthPrune.Methods;
using ScottPlot;

namespace DepthPrune.Reporting;

/// <summary>The figures of a run report, as PNG bytes (ScottPlot).</summary>
public static class RunPlots
{
    const int Width = 900, Height = 520;

    /// <summary>The colour of a removed activation's cell: no entropy is drawn for it (its probe measures an Identity).</summary>
    public static readonly Color RemovedColor = Colors.LightGray;

    /// <summary>A value per layer (rows) and iteration (columns): entropy or sparsity. With
    /// markRemoved, an activation removed by that iteration is drawn as removed, not as a value.</summary>
    public static byte[] LayerHeatmap(RunRecord run, Func<IterationRecord, IReadOnlyDictionary<string, double>> values, string title, string legend, bool markRemoved = false)
    {
        var layers = run.Iterations.SelectMany(i => values(i).Keys).Distinct().ToList();
        var data = new double[layers.Count, run.Iterations.Count];
        for (int r = 0; r < layers.Count; r++)
            for (int c = 0; c < run.Iterations.Count; c++)
                data[r, c] = markRemoved && run.Iterations[c].RemovedNames.Contains(layers[r]) ? double.NaN
                    : values(run.Iterations[c]).TryGetValue(layers[r], out double v) ? v : double.NaN;
        var plot = new Plot();
        var heatmap = plot.Add.Heatmap(data);
        heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
        heatmap.NaNCellColor = RemovedColor;
        if (markRemoved)
        {
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = "removed", FillColor = RemovedColor });
            plot.ShowLegend(Alignment.UpperRight);
        }
        plot.Add.ColorBar(heatmap).Label = legend;
        // Row r is drawn at y = rows-1-r (the first layer on top); column c at x = c.
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            Enumerable.Range(0, layers.Count).Select(r => (double)(layers.Count - 1 - r)).ToArray(), layers.ToArray());
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            Enumerable.Range(0, run.Iterations.Count).Select(c => (double)c).ToArray(),
            run.Iterations.Select(i => i.Iteration.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray());
        plot.Title(title);
        plot.XLabel("iteration");
        return plot.GetImageBytes(Width, Math.Max(Height, 120 + 16 * layers.Count), ImageFormat.Png);
    }

    /// <summary>Latency and MACs of each folded network as a fraction of its original (below 1: cheaper).</summary>
    public static byte[] FoldRatios(IReadOnlyList<FoldSummary> folds)
    {
        var plot = new Plot();
        var bars = new List<Bar>();
        for (int i = 0; i < folds.Count; i++)
        {
            bars.Add(new Bar { Position = 3 * i, Value = folds[i].LatencyMsFolded / folds[i].LatencyMsOriginal, FillColor = Colors.C0 });
            bars.Add(new Bar { Position = 3 * i + 1, Value = (double)folds[i].MacsFolded / folds[i].MacsOriginal, FillColor = Colors.C1 });
        }
        plot.Add.Bars(bars);
        plot.Add.HorizontalLine(1, color: Colors.Gray, pattern: LinePattern.Dashed);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            Enumerable.Range(0, folds.Count).Select(i => 3.0 * i + 0.5).ToArray(), folds.Select(f => $"{f.Checkpoint} ({f.Policy})").ToArray());
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "latency folded / original", FillColor = Colors.C0 });
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "MACs folded / original", FillColor = Colors.C1 });
        plot.ShowLegend(Alignment.UpperRight);
        plot.Axes.SetLimitsY(0, Math.Max(1.4, bars.Max(b => b.Value) * 1.3));   // room for the legend above the bars
        plot.Title("Folded network against the original");
        return plot.GetImageBytes(Width, Height, ImageFormat.Png);
    }

    /// <summary>One line per run: a value of the dense model and of each iteration against removed activations.</summary>
    public static byte[] AgainstRemoved(IReadOnlyList<(string Label, RunRecord Run)> runs, Func<IterationRecord, double> value, string title, string yLabel)
    {
        var plot = new Plot();
        foreach (var (label, run) in runs)
        {
            var points = (run.Dense is null ? run.Iterations : [run.Dense, .. run.Iterations]).ToList();
            var line = plot.Add.Scatter(points.Select(p => (double)p.Removed).ToArray(), points.Select(value).ToArray());
            line.LegendText = label;
            line.MarkerSize = 7;
        }
        plot.Title(title);
        plot.XLabel("activations removed");
        plot.YLabel(yLabel);
        if (runs.Count > 1) plot.ShowLegend(Alignment.LowerLeft);
        return plot.GetImageBytes(Width, Height, ImageFormat.Png);
    }
}
