using System.Diagnostics;
using DepthPrune.Training;

namespace DepthPrune.Cli;

/// <summary>Progress on stderr: one rewritten line on a terminal, a plain line every few
/// seconds (and at each epoch end) when redirected, so logs stay line-based.</summary>
public sealed class ConsoleProgress(TextWriter error, bool quiet = false) : IProgress<TrainProgress>
{
    readonly bool terminal = !Console.IsErrorRedirected && ReferenceEquals(error, Console.Error);
    readonly Stopwatch sinceLast = Stopwatch.StartNew();
    bool lineOpen;

    public void Report(TrainProgress p)
    {
        if (quiet) return;
        bool epochEnd = p.Batch == p.Batches;
        double interval = terminal ? 0.2 : 10;
        if (!epochEnd && sinceLast.Elapsed.TotalSeconds < interval) return;
        sinceLast.Restart();
        string text = $"{p.Stage} epoch {p.Epoch}/{p.Epochs} batch {p.Batch}/{p.Batches} loss {p.Loss:F4} acc {p.Accuracy:F2}% " +
                      $"lr {p.LearningRate:G3} {p.ImagesPerSecond:F0} img/s ETA {p.Eta:hh\\:mm\\:ss}";
        if (terminal)
        {
            error.Write("\r" + text.PadRight(Console.WindowWidth > 0 ? Math.Min(Console.WindowWidth - 1, 140) : 120));
            lineOpen = !epochEnd;
            if (epochEnd) error.WriteLine();
        }
        else error.WriteLine(text);
    }

    public void Line(string text)
    {
        if (quiet) return;
        if (lineOpen) { error.WriteLine(); lineOpen = false; }
        error.WriteLine(text);
    }
}
