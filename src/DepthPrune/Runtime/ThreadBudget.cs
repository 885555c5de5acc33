using static TorchSharp.torch;

namespace DepthPrune.Runtime;

/// <summary>How many threads libtorch's kernels use. oneDNN and OpenMP spin while they wait, so a
/// process with more threads than the CPUs it may really use (a cgroup quota, a CPU affinity
/// mask, or cores shared with other runs) collapses instead of slowing down gracefully
/// (docs/RELIABILITY.md, "Sharing a machine"). Order: the --threads flag, OMP_NUM_THREADS, then
/// the CPUs this process may use as .NET counts them (affinity and cgroup quota, DOTNET_PROCESSOR_COUNT).</summary>
public static class ThreadBudget
{
    public const string OmpVariable = "OMP_NUM_THREADS";

    public sealed record Budget(int Threads, string Source);

    public static Budget Resolve(int? requested, string? ompSetting, int availableCpus)
    {
        if (requested is int n) return new Budget(n, "--threads");
        if (!string.IsNullOrWhiteSpace(ompSetting))
        {
            // OpenMP allows a list ("4,2") for nested levels: the first is this level's.
            string first = ompSetting.Split(',')[0].Trim();
            if (!int.TryParse(first, out int omp) || omp < 1)
                throw new UsageException($"{OmpVariable}='{ompSetting}': expected a positive whole number of threads");
            return new Budget(omp, OmpVariable);
        }
        return new Budget(Math.Max(1, availableCpus), "the CPUs this process may use (affinity, cgroup quota)");
    }

    public static Budget FromEnvironment(int? requested) =>
        Resolve(requested, Environment.GetEnvironmentVariable(OmpVariable), Environment.ProcessorCount);

    /// <summary>Sets libtorch's intra-op threads; returns the count in force before, to restore.</summary>
    public static int Apply(Budget budget)
    {
        int before = get_num_threads();
        if (before != budget.Threads) set_num_threads(budget.Threads);
        return before;
    }
}
