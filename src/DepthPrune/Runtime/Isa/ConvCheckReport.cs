using System.Text.Json;

namespace DepthPrune.Runtime.Isa;

public sealed record ConvCheckFailure(string Geometry, double Forward, double InputGradient, double WeightGradient);

/// <summary>What one check process found under one ISA.</summary>
public sealed record ConvCheckReport(string Isa, int Checked, double Worst, double Seconds, IReadOnlyList<ConvCheckFailure> Failures)
{
    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public bool Passed => Failures.Count == 0 && Checked > 0 && !double.IsNaN(Worst);
}
