using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace DepthPrune.Entropy;

/// <summary>Counts z >= 0 per neuron straight from a CPU float32 activation's memory in one
/// read: no boolean map, no casts and no native calls per layer, which on narrow models cost
/// more than the comparison itself. Same comparison as torch's ge(0): -0 is ON, NaN is OFF.
/// The loops are compiled optimized from the first call: a probe calls them only a few dozen
/// times, too few for tiered compilation to replace the unoptimized first version.</summary>
static class OnCountKernel
{
    /// <summary>Below this many elements one thread beats the cost of starting another.</summary>
    const long ParallelFrom = 1 << 20;

    /// <summary>Whether <see cref="Accumulate"/> can read this tensor in place.</summary>
    public static bool Supports(Tensor z) =>
        z.device_type == DeviceType.CPU && z.dtype == ScalarType.Float32 && z.is_contiguous()
        && z.numel() * sizeof(float) <= int.MaxValue;

    /// <summary>Adds the ON count of every neuron of z, viewed as [outer, neurons, inner], to counts.</summary>
    public static void Accumulate(Tensor z, long outer, long inner, long[] counts)
    {
        ReadOnlySpan<float> all = MemoryMarshal.Cast<byte, float>(z.bytes);
        int neurons = counts.Length, rowLength = neurons * (int)inner;
        int workers = all.Length >= ParallelFrom ? Math.Min(Environment.ProcessorCount, (int)outer) : 1;
        if (workers <= 1)
        {
            CountRows(all, neurons, (int)inner, counts);
            return;
        }
        // Each worker counts a contiguous block of rows into its own array; merged after.
        var partial = new long[workers][];
        unsafe
        {
            fixed (float* start = all)
            {
                nint address = (nint)start;
                int length = all.Length;
                Parallel.For(0, workers, w =>
                {
                    long first = outer * w / workers, last = outer * (w + 1) / workers;
                    var rows = new ReadOnlySpan<float>((float*)address, length).Slice((int)(first * rowLength), (int)((last - first) * rowLength));
                    partial[w] = new long[neurons];
                    CountRows(rows, neurons, (int)inner, partial[w]);
                });
            }
        }
        foreach (var part in partial)
            for (int c = 0; c < neurons; c++) counts[c] += part[c];
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void CountRows(ReadOnlySpan<float> rows, int neurons, int inner, long[] counts)
    {
        if (inner == 1) CountNeuronsLast(rows, counts);
        else
            for (int start = 0, c = 0; start < rows.Length; start += inner, c = c + 1 == neurons ? 0 : c + 1)
                counts[c] += CountNonNegative(rows.Slice(start, inner));
    }

    /// <summary>[rows, neurons]: each row adds 1 to the neurons it has ON, a vector of neurons at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void CountNeuronsLast(ReadOnlySpan<float> rows, long[] counts)
    {
        int neurons = counts.Length, width = Vector<float>.Count;
        // int32 per neuron is exact for fewer than 2^31 rows, which a span cannot exceed.
        Span<int> on = neurons <= 4096 ? stackalloc int[neurons] : new int[neurons];
        for (int start = 0; start < rows.Length; start += neurons)
        {
            var row = rows.Slice(start, neurons);
            int c = 0;
            for (; c + width <= neurons; c += width)
            {
                // A true lane is all ones, -1 as an integer: subtracting it counts one.
                var isOn = Vector.GreaterThanOrEqual(new Vector<float>(row.Slice(c)), Vector<float>.Zero);
                (new Vector<int>(on.Slice(c)) - isOn).CopyTo(on.Slice(c));
            }
            for (; c < neurons; c++)
                if (row[c] >= 0) on[c]++;
        }
        for (int c = 0; c < neurons; c++) counts[c] += on[c];
    }

    /// <summary>How many values are >= 0 (a contiguous run of one neuron).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static int CountNonNegative(ReadOnlySpan<float> values)
    {
        int width = Vector<float>.Count, i = 0;
        var on = Vector<int>.Zero;
        for (; i + width <= values.Length; i += width)
            on -= Vector.GreaterThanOrEqual(new Vector<float>(values.Slice(i)), Vector<float>.Zero);
        int count = Vector.Sum(on);
        for (; i < values.Length; i++)
            if (values[i] >= 0) count++;
        return count;
    }
}
