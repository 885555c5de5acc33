namespace DepthPrune.Runtime;

/// <summary>Checks made before a run starts work in its folder: that it can be written, and that
/// the disk holding it has room for the checkpoints the run will keep.</summary>
public static class RunFolder
{
    /// <summary>Creates the folder and writes a probe file there; a UsageException names it when that fails.</summary>
    public static void RequireWritable(string directory, string flag = "--out")
    {
        string full = Path.GetFullPath(directory);
        string probe = Path.Combine(full, $".write-test-{Environment.ProcessId}");
        try
        {
            Directory.CreateDirectory(full);
            File.WriteAllBytes(probe, [1]);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"{flag} {directory}: cannot be written ({e.Message})");
        }
    }

    /// <summary>A UsageException naming the folder when its file system has less than `bytesNeeded` free.</summary>
    public static void RequireRoom(string directory, long bytesNeeded, string flag = "--out")
    {
        long free = FreeBytes(Path.GetFullPath(directory));
        if (free < bytesNeeded)
            throw new UsageException($"{flag} {directory}: {free >> 20:N0} MiB free on its disk, the run needs about {bytesNeeded >> 20:N0} MiB for its checkpoints");
    }

    /// <summary>Free bytes on the file system that holds the path (the mount with the longest matching root).</summary>
    public static long FreeBytes(string fullPath)
    {
        var drive = DriveInfo.GetDrives()
            .Where(d => d.IsReady && fullPath.StartsWith(d.RootDirectory.FullName, StringComparison.Ordinal))
            .MaxBy(d => d.RootDirectory.FullName.Length);
        return drive?.AvailableFreeSpace ?? long.MaxValue;   // unknown: do not refuse
    }
}
