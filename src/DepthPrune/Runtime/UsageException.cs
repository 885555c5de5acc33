namespace DepthPrune.Runtime;

/// <summary>The user asked for something invalid (a flag value, a name, a file that is not what
/// it should be). The CLI maps it to exit code 2; the message names what was wrong.</summary>
public class UsageException(string message) : Exception(message);

/// <summary>Input data or a file is unreadable or malformed; the message names the file.</summary>
public sealed class DataFormatException(string message) : Exception(message);
