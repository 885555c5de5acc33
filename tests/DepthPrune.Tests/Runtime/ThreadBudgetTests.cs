using System.Text.Json;
using DepthPrune.Runtime;
using static DepthPrune.Tests.Foundation.CliConventionTests;

namespace DepthPrune.Tests.Runtime;

public class ThreadBudgetTests
{
    [Theory]
    [InlineData(3, "8", 16, 3, "--threads")]
    [InlineData(null, "2", 16, 2, "OMP_NUM_THREADS")]
    [InlineData(null, "4,2", 16, 4, "OMP_NUM_THREADS")]
    [InlineData(null, null, 6, 6, "the CPUs")]
    [InlineData(null, " ", 0, 1, "the CPUs")]
    public void The_flag_wins_then_OMP_NUM_THREADS_then_the_usable_cpus(int? flag, string? omp, int cpus, int threads, string source)
    {
        var budget = ThreadBudget.Resolve(flag, omp, cpus);
        Assert.Equal(threads, budget.Threads);
        Assert.StartsWith(source, budget.Source);
    }

    [Theory]
    [InlineData("zero")]
    [InlineData("0")]
    [InlineData("-2")]
    public void A_bad_OMP_NUM_THREADS_is_named(string omp)
    {
        var e = Assert.Throws<UsageException>(() => ThreadBudget.Resolve(null, omp, 4));
        Assert.Contains($"OMP_NUM_THREADS='{omp}'", e.Message);
    }

    /// <summary>The flag reaches libtorch (get_num_threads inside the command), and the host's own
    /// setting is restored after it.</summary>
    [Fact]
    public void Threads_flag_sets_libtorch_for_the_command_and_restores_the_host()
    {
        int before = TorchSharp.torch.get_num_threads();
        var (code, output, err) = Run("info", "--threads", "1", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal(1, doc.RootElement.GetProperty("threads").GetInt32());
        Assert.Equal("--threads", doc.RootElement.GetProperty("threads_from").GetString());
        Assert.Equal(before, TorchSharp.torch.get_num_threads());
        (code, _, err) = Run("info", "--threads", "0");
        Assert.Equal(2, code);
        Assert.Contains("--threads 0", err);
    }
}
