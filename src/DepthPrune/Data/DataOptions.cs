namespace DepthPrune.Data;

/// <summary>What a user asks for: a preset name, where its files are, and how to cut it.</summary>
public sealed record DataOptions(
    string Dataset,
    string? Directory = null,
    int? TrainSubset = null,
    double ValidationFraction = 0,
    int Seed = 0,
    int? ImageSize = null,
    string? TestDomain = null);
