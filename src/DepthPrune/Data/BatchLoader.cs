using System.Collections.Concurrent;
using DepthPrune.Data.Transforms;
using DepthPrune.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace DepthPrune.Data;

/// <summary>Cuts an in-memory image set into transformed batches. The order of epoch e and the
/// random transforms of batch b depend only on (seed, e, b), so an epoch can be resumed at any
/// batch and reproduce an uninterrupted run. By default batches are built on the consumer's thread:
/// tensor ops on a second thread give libgomp (libtorch's OpenMP) a second thread team, and with
/// more OpenMP threads than cores it stops spinning between parallel regions, which cost 10-15% of
/// conv training speed on 2 cores (bench/torch-parity). Building a CPU batch takes ~1% of a step.
/// `prefetch` > 0 builds that many batches ahead on a background thread instead.</summary>
public sealed class BatchLoader(ImageSet set, int batchSize, Pipeline pipeline, bool shuffle, int seed, Compute compute, int prefetch = 0)
{
    /// <summary>Held in a field: a Scalar converted implicitly at the call can be finalized by the
    /// GC while libtorch still reads it (TorchSharp keeps only its raw handle), which failed a run
    /// with "Unknown scalar type" in div_.</summary>
    static readonly Scalar ByteScale = 255f.ToScalar();

    public ImageSet Set { get; } = set;
    public int BatchSize { get; } = batchSize > 0 ? batchSize : throw new UsageException($"--batch-size {batchSize}: must be positive");
    public int BatchesPerEpoch => (Set.Count + BatchSize - 1) / BatchSize;

    public long[] Order(int epoch)
    {
        long[] order = Enumerable.Range(0, Set.Count).Select(i => (long)i).ToArray();
        if (shuffle) new Random(Seeding.Derive(seed, epoch)).Shuffle(order);
        return order;
    }

    public IEnumerable<Batch> Epoch(int epoch, int startBatch = 0)
    {
        long[] order = Order(epoch);
        if (prefetch <= 0)
        {
            for (int b = startBatch; b < BatchesPerEpoch; b++) yield return Make(order, epoch, b);
            yield break;
        }
        using var queue = new BlockingCollection<Batch>(prefetch);
        using var stop = new CancellationTokenSource();
        var producer = Task.Run(() =>
        {
            try
            {
                for (int b = startBatch; b < BatchesPerEpoch && !stop.IsCancellationRequested; b++)
                    queue.Add(Make(order, epoch, b), stop.Token);
            }
            catch (OperationCanceledException) { }
            finally { queue.CompleteAdding(); }
        });
        try
        {
            foreach (Batch batch in queue.GetConsumingEnumerable()) yield return batch;
            producer.GetAwaiter().GetResult();   // surfaces a failure of the producer
        }
        finally
        {
            stop.Cancel();
            while (queue.TryTake(out Batch? left)) left.Dispose();
            try { producer.Wait(); } catch (AggregateException) { }
            while (queue.TryTake(out Batch? left)) left.Dispose();
        }
    }

    Batch Make(long[] order, int epoch, int b)
    {
        using var scope = NewDisposeScope();
        int start = b * BatchSize, count = Math.Min(BatchSize, Set.Count - start);
        var indices = order.AsSpan(start, count).ToArray();
        var index = tensor(indices, int64);
        var pixels = Set.Images.index_select(0, index).to(float32).div_(ByteScale);
        using var random = new Generator((ulong)Seeding.Derive(seed, epoch, b));
        var inputs = pipeline.Apply(pixels, random).to(compute.Device);
        if (compute.Device.type == DeviceType.CPU && MemoryLayout.ForCpuBatches) inputs = MemoryLayout.ChannelsLast(inputs);
        var targets = tensor(indices.Select(i => Set.Labels[i]).ToArray(), int64).to(compute.Device);
        return new Batch(inputs.MoveToOuterDisposeScope(), targets.MoveToOuterDisposeScope(), b);
    }
}
