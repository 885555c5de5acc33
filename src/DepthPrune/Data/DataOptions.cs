namespace DepthPrune.Data;

/// <summary>What a user asks for: a preset name, where its files are, and how to cut it.</summary>
public sealed record DataOptions(
    string Dataset,
    string? Directory = null,
    int? TrainSubset = null,
    double ValidationFraction = 0,
    int Seed = 0,
    int? ImageSize = null,
    string? TestDomain = null)
{
    /// <summary>The same images in the same splits (where the files lie may differ).</summary>
    public bool SameCut(DataOptions other) => this with { Directory = null } == other with { Directory = null };

    /// <summary>Refuses to resume a run cut as this with another cut (another validation split
    /// would judge on other images).</summary>
    public void RequireSameCutFor(DataOptions asked, string checkpoint)
    {
        if (!SameCut(asked))
            throw new Runtime.UsageException($"--resume: {checkpoint} was cut as {Cut()}, this command asks for {asked.Cut()}; pass the run's data flags (see its config.yaml)");
    }

    /// <summary>The cut as the flags that make it.</summary>
    public string Cut() => FormattableString.Invariant(
        $"--dataset {Dataset} --train-subset {(TrainSubset?.ToString() ?? "(all)")} --val-split {ValidationFraction} --seed {Seed}{(ImageSize is int i ? $" --image-size {i}" : "")}{(TestDomain is { } t ? $" --test-domain {t}" : "")}");
}
