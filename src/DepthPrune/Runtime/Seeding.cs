using TorchSharp;

namespace DepthPrune.Runtime;

/// <summary>Seeds every random source a run uses: torch's generator and the .NET Random that
/// orders data. The same seed and inputs give the same run.</summary>
public static class Seeding
{
    public static Random Seed(int seed)
    {
        torch.manual_seed(seed);
        torch.random.manual_seed(seed);
        return new Random(seed);
    }

    /// <summary>A seed for a sub-stream (epoch, iteration), so resuming mid-run reproduces it.</summary>
    public static int Derive(int seed, params int[] path)
    {
        unchecked
        {
            int h = seed * 1_000_003 + 17;
            foreach (int p in path) h = (h ^ p) * 16_777_619 + 31;
            return h & 0x7fffffff;
        }
    }

    /// <summary>The indices 0..count-1 in a seeded order (samples are prefixes of it); a .NET
    /// Random, not Seed, which would reseed torch.</summary>
    public static long[] Permutation(int count, int seed)
    {
        var order = Enumerable.Range(0, count).Select(i => (long)i).ToArray();
        new Random(seed).Shuffle(order);
        return order;
    }
}
