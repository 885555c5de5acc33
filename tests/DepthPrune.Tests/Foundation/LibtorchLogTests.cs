using DepthPrune.Runtime;

namespace DepthPrune.Tests.Foundation;

public class LibtorchLogTests
{
    [Fact]
    public void Libtorch_warnings_are_silenced_in_the_loaded_library_unless_the_user_chose_a_level()
    {
        if (!OperatingSystem.IsLinux()) return;
        Assert.NotNull(LibtorchLog.Level);   // the flag is found in the libc10 libtorch loaded
        bool set = LibtorchLog.ErrorsOnly();
        Assert.Equal(Environment.GetEnvironmentVariable(LibtorchLog.LevelVariable) is null, set);
        if (set) Assert.Equal(2, LibtorchLog.Level);
    }
}
