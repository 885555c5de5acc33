namespace DepthPrune.Runtime;

/// <summary>A request to stop the run at the next point where a resumable checkpoint can be
/// written (Ctrl-C in the CLI). The trainer checks it after every batch, saves, and throws
/// <see cref="RunStoppedException"/>.</summary>
public static class StopRequest
{
    static volatile bool requested;

    public static bool IsRequested => requested;
    public static void Request() => requested = true;
    public static void Clear() => requested = false;
}

/// <summary>The run stopped on request after saving the checkpoint it names.</summary>
public sealed class RunStoppedException(string checkpoint, int epoch, int batch)
    : Exception($"stopped on request at epoch {epoch + 1}, batch {batch + 1}; checkpoint {checkpoint} saved")
{
    public string Checkpoint { get; } = checkpoint;
}
