namespace DepthPrune.Runtime.Isa;

/// <summary>How the oneDNN instruction-set limit of this process was decided.</summary>
public enum IsaSource { Verified, Cached, UserSet, Fallback }

/// <summary>A rejected ISA and why; CheckRan is false when the check itself failed to run (then
/// the verdict is not cached); a check whose child crashed or stalled under that ISA did run.</summary>
public sealed record IsaRejection(string Isa, string Reason, bool CheckRan);

/// <summary>The limit in force (an ONEDNN_MAX_CPU_ISA value), where it came from, and what was rejected.</summary>
public sealed record IsaChoice(string Isa, IsaSource Source, string Detail, IReadOnlyList<IsaRejection> Rejected)
{
    public string SourceName => Source switch
    {
        IsaSource.Verified => "verified",
        IsaSource.Cached => "cached",
        IsaSource.UserSet => "user-set",
        _ => "fallback",
    };
}

/// <summary>Picks the fastest candidate whose convolutions agree with float64. Candidates come
/// fastest first; the check is injected so that a failing ISA can be simulated.</summary>
public static class IsaChooser
{
    /// <summary>Used when no candidate passes or none can be checked: the ISA whose kernels were
    /// right on every geometry on every CPU we have checked (at a cost of ~0.6x conv speed).</summary>
    public const string Fallback = "AVX";

    public static IsaChoice Choose(IReadOnlyList<string> candidates, Func<string, ConvCheckReport> check)
    {
        var rejected = new List<IsaRejection>();
        foreach (string isa in candidates)
        {
            ConvCheckReport report;
            try { report = check(isa); }
            catch (ConvCheckFault fault)
            {
                rejected.Add(new IsaRejection(isa, fault.Message, CheckRan: true));
                continue;
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or TimeoutException or System.ComponentModel.Win32Exception or System.Text.Json.JsonException)
            {
                rejected.Add(new IsaRejection(isa, "the check did not run: " + e.Message, CheckRan: false));
                continue;
            }
            if (report.Passed)
                return new IsaChoice(isa, IsaSource.Verified,
                    FormattableString.Invariant($"{report.Checked} conv geometries agree with float64 (worst {report.Worst:G2}) in {report.Seconds:F1} s"), rejected);
            rejected.Add(new IsaRejection(isa, Describe(report), CheckRan: true));
        }
        return new IsaChoice(Fallback, IsaSource.Fallback, "no candidate ISA passed the conv check", rejected);
    }

    static string Describe(ConvCheckReport report)
    {
        if (report.Failures.Count == 0) return $"check incomplete ({report.Checked} geometries, worst {report.Worst})";
        ConvCheckFailure first = report.Failures[0];
        return FormattableString.Invariant(
            $"{report.Failures.Count} of {report.Checked} geometries disagree with float64, e.g. {first.Geometry}: forward {first.Forward:G2}, input gradient {first.InputGradient:G2}, weight gradient {first.WeightGradient:G2}");
    }
}
