namespace DepthPrune.Training;

/// <summary>Training produced a non-finite loss or weight.</summary>
public sealed class DivergedException(string message) : Exception(message);
