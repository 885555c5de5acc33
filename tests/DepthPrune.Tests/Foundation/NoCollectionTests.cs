using System.Runtime;
using DepthPrune.Runtime;

namespace DepthPrune.Tests.Foundation;

public class NoCollectionTests
{
    [Fact]
    public void The_work_runs_with_the_collector_held_off_and_it_is_released_after()
    {
        int collections = GC.CollectionCount(0);
        var (mode, during) = NoCollection.Run(() =>
        {
            var garbage = new List<byte[]>();
            for (int i = 0; i < 1000; i++) garbage.Add(new byte[16 << 10]);   // 16 MB, within the budget
            return (GCSettings.LatencyMode, GC.CollectionCount(0) - collections);
        });
        Assert.Equal(GCLatencyMode.NoGCRegion, mode);
        Assert.True(during <= 1, $"{during} collections during the work");   // at most the one that starts the region
        Assert.NotEqual(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
        // Work that allocates past the budget ends the region itself; Run still returns its value.
        Assert.Equal(7, NoCollection.Run(() => { for (int i = 0; i < 300; i++) GC.KeepAlive(new byte[1 << 20]); return 7; }));
        Assert.NotEqual(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
    }
}
