using DepthPrune.Runtime.Isa;

namespace DepthPrune.Tests.Foundation;

public class IsaSelectionTests
{
    static ConvCheckReport Pass(string isa) => new(isa, 10, 1e-6, 0.1, []);
    static ConvCheckReport Fail(string isa) => new(isa, 10, 0.4, 0.1, [new ConvCheckFailure("8,1,6,28,5,1,2,1", 1e-6, 0.4, 1e-6)]);

    [Fact]
    public void Chooser_takes_the_fastest_candidate_that_agrees_with_float64()
    {
        var asked = new List<string>();
        IsaChoice choice = IsaChooser.Choose(["ALL", "AVX512_CORE", "AVX2", "AVX"], isa =>
        {
            asked.Add(isa);
            return isa is "ALL" or "AVX512_CORE" ? Fail(isa) : Pass(isa);
        });
        Assert.Equal("AVX2", choice.Isa);
        Assert.Equal(IsaSource.Verified, choice.Source);
        Assert.Equal(["ALL", "AVX512_CORE", "AVX2"], asked);   // stops at the first that passes
        Assert.Equal(["ALL", "AVX512_CORE"], choice.Rejected.Select(r => r.Isa));
        Assert.Contains("input gradient 0.4", choice.Rejected[0].Reason);
        Assert.All(choice.Rejected, r => Assert.True(r.CheckRan));
    }

    [Fact]
    public void A_check_that_cannot_run_rejects_that_candidate_and_is_marked_as_not_run()
    {
        IsaChoice choice = IsaChooser.Choose(["ALL", "AVX2"], isa =>
            isa == "ALL" ? throw new TimeoutException("took too long") : Pass(isa));
        Assert.Equal("AVX2", choice.Isa);
        Assert.False(choice.Rejected.Single().CheckRan);
        Assert.Contains("took too long", choice.Rejected.Single().Reason);
    }

    [Fact]
    public void When_no_candidate_passes_the_fallback_is_used_and_said()
    {
        IsaChoice choice = IsaChooser.Choose(["ALL", "AVX2"], Fail);
        Assert.Equal(IsaChooser.Fallback, choice.Isa);
        Assert.Equal(IsaSource.Fallback, choice.Source);
        Assert.Equal(2, choice.Rejected.Count);
    }

    [Fact]
    public void An_empty_or_NaN_report_never_passes()
    {
        Assert.False(new ConvCheckReport("ALL", 0, 0, 0, []).Passed);
        Assert.False(new ConvCheckReport("ALL", 5, double.NaN, 0, []).Passed);
        Assert.False(new ConvErrors(0, double.NaN, 0).Agrees);
    }

    [Theory]
    [InlineData("fpu sse4_1 avx avx2 fma avx512f avx512bw avx512vl avx512dq avx512_vnni avx512_bf16", "ALL AVX512_CORE AVX2 AVX SSE41")]
    [InlineData("fpu sse4_1 avx avx2 fma avx512f avx512bw avx512vl avx512dq", "ALL AVX2 AVX SSE41")]
    [InlineData("fpu sse4_1 avx avx2 fma", "ALL AVX SSE41")]
    [InlineData("fpu sse4_1 avx avx2 fma avx_vnni", "ALL AVX2 AVX SSE41")]
    [InlineData("fpu sse4_1", "ALL")]
    public void Candidates_follow_the_cpu_flags_fastest_first(string flags, string expected)
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["cpuinfo"], $"processor\t: 0\nmodel name\t: Test CPU\ncpu family\t: 25\nmodel\t\t: 1\nstepping\t: 1\nflags\t\t: {flags}\n\nprocessor\t: 1\n");
        CpuIdentity cpu = CpuIdentity.Read(dir["cpuinfo"]);
        Assert.Equal("Test CPU (family 25, model 1, stepping 1)", cpu.Model);
        Assert.Equal(expected, string.Join(" ", cpu.IsaCandidates()));
    }

    [Fact]
    public void The_users_setting_wins_and_runs_no_check()
    {
        using var dir = new TempDir();
        IsaChoice choice = IsaSelection.Resolve("AVX2", CpuIdentity.Current, new IsaCache(dir.Path),
            new ConvCheckProcess(dir["missing.dll"]), _ => { });
        Assert.Equal(("AVX2", IsaSource.UserSet), (choice.Isa, choice.Source));
        Assert.False(File.Exists(new IsaCache(dir.Path).File));
    }

    [Fact]
    public void A_real_check_process_with_an_injected_fault_is_rejected_and_the_verdict_is_cached()
    {
        using var dir = new TempDir();
        var cache = new IsaCache(dir.Path);
        // The last candidate is checked for real with a wrong gradient injected; the faster ones
        // die at once (whether their kernels work on this CPU is not this test's question).
        var candidates = CpuIdentity.Current.IsaCandidates();
        string last = candidates[^1];
        var faulty = new ConvCheckProcess(Path.Combine(AppContext.BaseDirectory, ConvCheckProcess.CheckerFile),
            new Dictionary<string, string> { [ConvCheckProcess.FaultVariable] = string.Join(",", [.. candidates.SkipLast(1).Select(c => c + ":crash"), last]) });
        var notes = new List<string>();

        IsaChoice first = IsaSelection.Resolve(null, CpuIdentity.Current, cache, faulty, notes.Add);
        Assert.Equal(IsaChooser.Fallback, first.Isa);
        Assert.Equal(last, first.Rejected[^1].Isa);
        Assert.Contains("input gradient 0.5", first.Rejected[^1].Reason);
        Assert.Contains(notes, n => n.Contains($"{last} rejected"));

        // Served from the cache: a checker that does not exist is never asked.
        IsaChoice second = IsaSelection.Resolve(null, CpuIdentity.Current, cache, new ConvCheckProcess(dir["missing.dll"]), _ => { });
        Assert.Equal((first.Isa, IsaSource.Cached), (second.Isa, second.Source));
        Assert.Equal(first.Rejected.Select(r => r.Isa), second.Rejected.Select(r => r.Isa));
    }

    /// <summary>The real check process with the fault ":crash" or ":throw" injected under every candidate.</summary>
    static ConvCheckProcess ChildFailingEvery(IEnumerable<string> candidates, string fault) =>
        new(Path.Combine(AppContext.BaseDirectory, ConvCheckProcess.CheckerFile),
            new Dictionary<string, string> { [ConvCheckProcess.FaultVariable] = string.Join(",", candidates.Select(c => c + fault)) });

    /// <summary>On one AMD CPU the checks under ALL and AVX512_CORE die with SIGSEGV: that is a verdict
    /// (the kernels crash), cached like a wrong gradient, so later commands do not pay for the check again.</summary>
    [Fact]
    public void A_check_process_that_dies_by_a_signal_rejects_that_isa_and_the_verdict_is_cached()
    {
        using var dir = new TempDir();
        var cache = new IsaCache(dir.Path);
        var candidates = CpuIdentity.Current.IsaCandidates();
        // Every candidate's child kills itself at once (SIGKILL), so no real check is paid for.
        var crashing = ChildFailingEvery(candidates, ":crash");

        IsaChoice first = IsaSelection.Resolve(null, CpuIdentity.Current, cache, crashing, _ => { });
        Assert.Equal((IsaChooser.Fallback, IsaSource.Fallback), (first.Isa, first.Source));
        Assert.Equal(candidates, first.Rejected.Select(r => r.Isa));
        Assert.All(first.Rejected, r => Assert.True(r.CheckRan));
        Assert.Contains($"under {candidates[0]} crashed (exit 137)", first.Rejected[0].Reason);
        IsaChoice second = IsaSelection.Resolve(null, CpuIdentity.Current, cache, new ConvCheckProcess(dir["missing.dll"]), _ => { });
        Assert.Equal((first.Isa, IsaSource.Cached), (second.Isa, second.Source));
    }

    /// <summary>A managed exception in the check also ends in SIGABRT (134), but it says nothing about
    /// the kernels: not a verdict, not cached.</summary>
    [Fact]
    public void A_check_that_throws_is_not_a_verdict_and_is_not_cached()
    {
        using var dir = new TempDir();
        var cache = new IsaCache(dir.Path);
        var candidates = CpuIdentity.Current.IsaCandidates();
        var throwing = ChildFailingEvery(candidates, ":throw");
        IsaChoice choice = IsaSelection.Resolve(null, CpuIdentity.Current, cache, throwing, _ => { });
        Assert.All(choice.Rejected, r => Assert.False(r.CheckRan, r.Reason));
        Assert.False(File.Exists(cache.File));
    }

    [Fact]
    public void A_crash_or_stall_reported_by_the_checker_counts_as_a_check_that_ran()
    {
        IsaChoice choice = IsaChooser.Choose(["ALL", "AVX2"], isa =>
            isa == "ALL" ? throw new ConvCheckFault("stalled: did not finish in 120 s") : Pass(isa));
        Assert.Equal("AVX2", choice.Isa);
        Assert.True(choice.Rejected.Single().CheckRan);
    }

    [Fact]
    public void A_damaged_cache_or_a_missing_checker_falls_back_without_throwing()
    {
        using var dir = new TempDir();
        var cache = new IsaCache(dir.Path);
        File.WriteAllText(cache.File, "{ not json");
        IsaChoice choice = IsaSelection.Resolve(null, CpuIdentity.Current, cache, new ConvCheckProcess(dir["missing.dll"]), _ => { });
        Assert.Equal((IsaChooser.Fallback, IsaSource.Fallback), (choice.Isa, choice.Source));
        Assert.Contains("missing.dll", choice.Detail);
    }

    [Fact]
    public void The_cache_key_changes_with_the_cpu_flags_and_the_libtorch_build()
    {
        var a = new CpuIdentity("X", new HashSet<string> { "avx2" });
        var b = new CpuIdentity("X", new HashSet<string> { "avx2", "avx512f" });
        Assert.NotEqual(IsaCache.Key(a, "0.107.0", 2), IsaCache.Key(b, "0.107.0", 2));
        Assert.NotEqual(IsaCache.Key(a, "0.107.0", 2), IsaCache.Key(a, "0.108.0", 2));
        Assert.NotEqual(IsaCache.Key(a, "0.107.0", 2), IsaCache.Key(a, "0.107.0", 4));
        Assert.Equal(IsaCache.Key(a, "0.107.0", 2), IsaCache.Key(a, "0.107.0", 2));
    }

    [Fact]
    public void This_process_runs_under_the_chosen_limit()
    {
        Assert.Equal(IsaSelection.Current.Isa, Environment.GetEnvironmentVariable(IsaSelection.Variable));
    }
}
