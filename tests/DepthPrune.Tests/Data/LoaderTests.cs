using DepthPrune.Data;
using DepthPrune.Data.Transforms;
using DepthPrune.Runtime;
using static TorchSharp.torch;

namespace DepthPrune.Tests.Data;

public class LoaderTests
{
    static ImageSet Numbered(int n)
    {
        // Image i is filled with value i, so a batch shows which images it holds.
        var pixels = Enumerable.Range(0, n).SelectMany(i => Enumerable.Repeat((byte)i, 4)).ToArray();
        return ImageSet.FromBytes(pixels, [n, 1, 2, 2], Enumerable.Range(0, n).Select(i => (long)i).ToArray(), ["a"], "numbered");
    }

    static long[] Labels(IEnumerable<Batch> batches) =>
        batches.SelectMany(b => { using (b) return b.Targets.data<long>().ToArray(); }).ToArray();

    [Fact]
    public void Same_seed_gives_the_same_order_and_other_epochs_differ()
    {
        using var set = Numbered(50);
        var a = new BatchLoader(set, 8, new Pipeline([]), shuffle: true, seed: 3, Compute.Cpu);
        var b = new BatchLoader(set, 8, new Pipeline([]), shuffle: true, seed: 3, Compute.Cpu);
        long[] epoch0 = Labels(a.Epoch(0));
        Assert.Equal(epoch0, Labels(b.Epoch(0)));
        Assert.NotEqual(epoch0, Labels(a.Epoch(1)));
        Assert.Equal(Enumerable.Range(0, 50).Select(i => (long)i), epoch0.Order());
        Assert.Equal(7, a.BatchesPerEpoch);
    }

    [Fact]
    public void Cpu_image_batches_are_channels_last_with_the_values_of_the_contiguous_layout()
    {
        // Pixel (c, y, x) of the 3-channel 2x2 image i holds 20i + 4c + 2y + x: any layout slip shows.
        int n = 5;
        var pixels = Enumerable.Range(0, n).SelectMany(i => Enumerable.Range(0, 12).Select(k => (byte)(i * 20 + k))).ToArray();
        using var set = ImageSet.FromBytes(pixels, [n, 3, 2, 2], Enumerable.Range(0, n).Select(i => (long)i).ToArray(), ["a"], "rgb");
        var loader = new BatchLoader(set, 4, new Pipeline([]), shuffle: false, seed: 0, Compute.Cpu);
        using var batch = loader.Epoch(0).First();
        Assert.True(MemoryLayout.IsChannelsLast(batch.Inputs));
        Assert.Equal([4L, 3, 2, 2], batch.Inputs.shape);
        for (int i = 0; i < 4; i++)
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < 2; y++)
                    for (int x = 0; x < 2; x++)
                        Assert.Equal((i * 20 + c * 4 + y * 2 + x) / 255f, batch.Inputs[i, c, y, x].item<float>(), 6);
    }

    [Fact]
    public void Resuming_at_a_batch_reproduces_the_rest_of_the_epoch_with_its_augmentations()
    {
        using var set = Numbered(40);
        var pipeline = new Pipeline([new RandomFlip(horizontal: true), new RandomCrop(2, padding: 1)]);
        var loader = new BatchLoader(set, 8, pipeline, shuffle: true, seed: 9, Compute.Cpu);
        var full = loader.Epoch(2).Select(b => { using (b) return b.Inputs.clone(); }).ToList();
        var tail = loader.Epoch(2, startBatch: 3).Select(b => { using (b) return b.Inputs.clone(); }).ToList();
        Assert.Equal(2, tail.Count);
        for (int i = 0; i < 2; i++) Assert.True(full[3 + i].equal(tail[i]).all().item<bool>());
    }

    [Fact]
    public void Prefetched_batches_equal_those_built_in_the_consumers_thread()
    {
        using var set = Numbered(50);
        var pipeline = new Pipeline([new RandomFlip(horizontal: true)]);
        var inline = new BatchLoader(set, 8, pipeline, shuffle: true, seed: 3, Compute.Cpu);
        var ahead = new BatchLoader(set, 8, pipeline, shuffle: true, seed: 3, Compute.Cpu, prefetch: 2);
        var a = inline.Epoch(1).Select(b => { using (b) return b.Inputs.clone(); }).ToList();
        var b = ahead.Epoch(1).Select(b => { using (b) return b.Inputs.clone(); }).ToList();
        Assert.Equal(7, a.Count);
        for (int i = 0; i < a.Count; i++) Assert.True(a[i].equal(b[i]).all().item<bool>());
    }

    [Fact]
    public void Stopping_early_releases_the_prefetcher()
    {
        using var set = Numbered(100);
        var loader = new BatchLoader(set, 4, new Pipeline([]), shuffle: false, seed: 0, Compute.Cpu, prefetch: 2);
        foreach (var batch in loader.Epoch(0)) { batch.Dispose(); break; }
        Assert.Equal(100, Labels(loader.Epoch(0)).Length);
    }

    [Fact]
    public void Normalize_matches_a_hand_computation()
    {
        using var x = tensor(new float[] { 0.5f, 1f, 0f, 0.25f }).reshape(1, 2, 1, 2);
        using var g = new Generator(1);
        using var y = new Normalize([0.5, 0.25], [0.5, 0.25]).Apply(x, g);
        Assert.Equal(new float[] { 0f, 1f, -1f, 0f }, y.data<float>().ToArray());
    }

    [Fact]
    public void Crop_without_padding_at_full_size_and_double_flip_are_identities()
    {
        using var x = rand(3, 2, 5, 5);
        using var g = new Generator(4);
        using var cropped = new RandomCrop(5, 0).Apply(x, g);
        Assert.True(cropped.equal(x).all().item<bool>());
        using var flipped = new RandomFlip(true, p: 1.0).Apply(x, g);
        using var back = new RandomFlip(true, p: 1.0).Apply(flipped, g);
        Assert.True(back.equal(x).all().item<bool>());
        Assert.Equal(x[0, 0, 0, 0].item<float>(), flipped[0, 0, 0, 4].item<float>());
    }

    [Fact]
    public void Resize_centre_crop_and_random_resized_crop_give_the_requested_size()
    {
        using var x = rand(2, 3, 20, 30);
        using var g = new Generator(5);
        using var c = new ResizeCentreCrop(10, 8).Apply(x, g);
        Assert.Equal(new long[] { 2, 3, 8, 8 }, c.shape);
        using var r = new RandomResizedCrop(12).Apply(x, g);
        Assert.Equal(new long[] { 2, 3, 12, 12 }, r.shape);
        using var rot = new RandomRotation(0).Apply(x, g);
        Assert.True(rot.allclose(x, atol: 1e-5));
        using var jitter = new ColorJitter(0, 0, 0).Apply(x, g);
        Assert.True(jitter.allclose(x, atol: 1e-6));
    }

    [Fact]
    public void Channel_stats_match_a_brute_force_computation()
    {
        var random = new Random(2);
        var pixels = new byte[6 * 2 * 3 * 3];
        random.NextBytes(pixels);
        using var set = ImageSet.FromBytes(pixels, [6, 2, 3, 3], new long[6], ["a"], "random");
        var (mean, std) = ChannelStats.Compute(set, chunk: 4);
        for (int c = 0; c < 2; c++)
        {
            var values = new List<double>();
            for (int i = 0; i < 6; i++) for (int p = 0; p < 9; p++) values.Add(pixels[i * 18 + c * 9 + p] / 255.0);
            double m = values.Average();
            Assert.Equal(m, mean[c], 10);
            Assert.Equal(Math.Sqrt(values.Sum(v => (v - m) * (v - m)) / values.Count), std[c], 10);
        }
    }

    [Fact]
    public void Validation_is_carved_from_the_training_subset_seeded_and_disjoint()
    {
        using var dir = new TempDir();
        SyntheticFiles.WriteIdx(dir["train-images-idx3-ubyte"], dir["train-labels-idx1-ubyte"], 100, 2, 2, false);
        SyntheticFiles.WriteIdx(dir["t10k-images-idx3-ubyte"], dir["t10k-labels-idx1-ubyte"], 10, 2, 2, false);
        var options = new DataOptions("mnist", dir.Path, TrainSubset: 30, ValidationFraction: 0.2, Seed: 5);
        using var a = DataBundle.Load(options);
        using var b = DataBundle.Load(options);
        Assert.Equal(24, a.Train.Count);            // 30 images used, 20% of them held out
        Assert.Equal(6, a.Validation!.Count);
        Assert.True(a.Train.Images.equal(b.Train.Images).all().item<bool>());
        var trainFirstPixels = Enumerable.Range(0, 24).Select(i => a.Train.Images[i, 0, 0, 0].item<byte>()).ToHashSet();
        var valFirstPixels = Enumerable.Range(0, 6).Select(i => a.Validation.Images[i, 0, 0, 0].item<byte>()).ToList();
        Assert.DoesNotContain(valFirstPixels, trainFirstPixels.Contains);

        // Without a split the subset is the same 30 images.
        using var whole = DataBundle.Load(options with { ValidationFraction = 0 });
        var wholeFirstPixels = Enumerable.Range(0, 30).Select(i => whole.Train.Images[i, 0, 0, 0].item<byte>()).ToHashSet();
        Assert.True(wholeFirstPixels.SetEquals(trainFirstPixels.Concat(valFirstPixels)));
    }
}
