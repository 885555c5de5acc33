using DepthPrune.Methods;

namespace DepthPrune.Cli.Commands;

/// <summary>A method run as a plain table: one row per iteration, the chosen one marked.</summary>
public static class RunTable
{
    public static void Write(TextWriter output, RunRecord run)
    {
        output.WriteLine($"{run.Method} on {run.Model}/{run.Dataset}: dense top-1 {run.DenseTop1:F2}%, tolerance {run.Tolerance} points ({run.StoppingSplit}), stopped: {run.StopReason}");
        output.WriteLine($"{"iter",4} {"removed",8} {"top-1",7} {"sparsity",8} {"depth",6} {"MACs(nz)",12}  newly removed");
        foreach (var r in new[] { run.Dense! }.Concat(run.Iterations))
        {
            string mark = r.Iteration == run.BestIteration ? "*" : r.WithinTolerance ? " " : "x";
            output.WriteLine($"{r.Iteration,3}{mark} {r.Removed,3}/{r.Total,-4} {r.Top1,7:F2} {r.Sparsity,8:P1} {r.LinearDepth,6} {r.NonzeroMacs,12:N0}  {string.Join(", ", r.NewlyRemoved)}");
        }
        output.WriteLine(run.BestIteration is int best ? $"best within tolerance: iteration {best} -> {run.BestCheckpoint}" : "no iteration stayed within tolerance");
    }
}
