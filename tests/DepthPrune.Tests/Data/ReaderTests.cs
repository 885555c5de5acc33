using DepthPrune.Data;
using DepthPrune.Runtime;
using static TorchSharp.torch;

namespace DepthPrune.Tests.Data;

public class ReaderTests
{
    static readonly string[] Ten = Enumerable.Range(0, 10).Select(i => i.ToString()).ToArray();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Idx_files_read_back_pixel_for_pixel(bool gzip)
    {
        using var dir = new TempDir();
        string ext = gzip ? ".gz" : "";
        SyntheticFiles.WriteIdx(dir["train-images-idx3-ubyte" + ext], dir["train-labels-idx1-ubyte" + ext], 12, 5, 4, gzip);
        using var set = IdxReader.ReadSplit(dir.Path, "train", Ten);
        Assert.Equal(new long[] { 12, 1, 5, 4 }, set.Images.shape);
        Assert.Equal(Enumerable.Range(0, 12).Select(i => (long)(i % 10)), set.Labels);
        Assert.Equal(SyntheticFiles.Pixel(7, 13), set.Images[7, 0, 3, 1].item<byte>());   // index 13 = row 3, col 1
    }

    [Fact]
    public void Idx_with_wrong_magic_names_the_file_and_the_expected_magic()
    {
        using var dir = new TempDir();
        SyntheticFiles.WriteIdx(dir["a"], dir["b"], 3, 2, 2, false);
        var e = Assert.Throws<DataFormatException>(() => IdxReader.Read(dir["b"], dir["a"], Ten));  // swapped
        Assert.Contains(dir["b"], e.Message);
        Assert.Contains("magic", e.Message);
    }

    [Fact]
    public void Truncated_idx_is_reported_with_declared_and_actual_sizes()
    {
        using var dir = new TempDir();
        SyntheticFiles.WriteIdx(dir["i"], dir["l"], 10, 4, 4, false);
        byte[] bytes = File.ReadAllBytes(dir["i"]);
        File.WriteAllBytes(dir["i"], bytes[..(bytes.Length - 5)]);
        var e = Assert.Throws<DataFormatException>(() => IdxReader.Read(dir["i"], dir["l"], Ten));
        Assert.Contains("truncated", e.Message);
        Assert.Contains(dir["i"], e.Message);
    }

    [Fact]
    public void Idx_label_count_mismatch_is_an_error()
    {
        using var dir = new TempDir();
        SyntheticFiles.WriteIdx(dir["i"], dir["l"], 10, 4, 4, false);
        SyntheticFiles.WriteIdx(dir["i2"], dir["l2"], 9, 4, 4, false);
        var e = Assert.Throws<DataFormatException>(() => IdxReader.Read(dir["i"], dir["l2"], Ten));
        Assert.Contains("9 labels", e.Message);
    }

    [Fact]
    public void Corrupt_gzip_is_reported_by_file()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir["x.gz"], [0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5]);
        var e = Assert.Throws<DataFormatException>(() => IdxReader.Read(dir["x.gz"], dir["x.gz"], Ten));
        Assert.Contains("x.gz", e.Message);
    }

    [Fact]
    public void Cifar_binary_batches_decode_as_rgb_planes()
    {
        using var dir = new TempDir();
        for (int b = 1; b <= 5; b++) SyntheticFiles.WriteCifarBatch(dir[$"data_batch_{b}.bin"], 3, (b - 1) * 3);
        SyntheticFiles.WriteCifarBatch(dir["test_batch.bin"], 4, 100);
        var (train, test) = CifarBinaryReader.ReadDirectory(dir.Path);
        using (train) using (test)
        {
            Assert.Equal(new long[] { 15, 3, 32, 32 }, train.Images.shape);
            Assert.Equal(4, test.Count);
            Assert.Equal(7 % 10, train.Labels[7]);
            // Record pixel 1024 + 32*2 + 5 is green plane, row 2, column 5.
            Assert.Equal(SyntheticFiles.Pixel(7, 1024 + 69), train.Images[7, 1, 2, 5].item<byte>());
        }
    }

    [Fact]
    public void Truncated_cifar_batch_is_an_error_naming_the_file()
    {
        using var dir = new TempDir();
        SyntheticFiles.WriteCifarBatch(dir["test_batch.bin"], 2, 0);
        File.WriteAllBytes(dir["test_batch.bin"], File.ReadAllBytes(dir["test_batch.bin"])[..5000]);
        var e = Assert.Throws<DataFormatException>(() => CifarBinaryReader.Read([dir["test_batch.bin"]], CifarBinaryReader.DefaultClasses));
        Assert.Contains("test_batch.bin", e.Message);
        Assert.Contains("3073", e.Message);
    }

    [Fact]
    public void Image_tree_reads_classes_in_order_with_exact_png_pixels()
    {
        using var dir = new TempDir();
        SyntheticFiles.WritePng(dir["train/cat/0.png"], 8, 8, 10, 20, 30);
        SyntheticFiles.WritePng(dir["train/cat/1.png"], 8, 8, 11, 21, 31);
        SyntheticFiles.WritePng(dir["train/ant/0.png"], 8, 8, 200, 100, 50);
        SyntheticFiles.WritePng(dir["test/ant/0.png"], 8, 8, 1, 2, 3);
        SyntheticFiles.WritePng(dir["test/cat/0.png"], 8, 8, 4, 5, 6);
        using var bundle = DataBundle.Load(new DataOptions("imagefolder", dir.Path));
        Assert.Equal(new[] { "ant", "cat" }, bundle.Train.Classes);
        Assert.Equal(new long[] { 0, 1, 1 }, bundle.Train.Labels);
        Assert.Equal(new long[] { 3, 8, 8 }, bundle.SampleShape);
        Assert.Equal(new byte[] { 200, 100, 50 }, bundle.Train.Images[0, .., 4, 4].data<byte>().ToArray());
        Assert.Equal(new byte[] { 11, 21, 31 }, bundle.Train.Images[2, .., 0, 7].data<byte>().ToArray());
    }

    /// <summary>A PNG cut in half still decodes with SKBitmap.Decode (the missing rows blank): it must
    /// be counted as unreadable, not trained on.</summary>
    [Fact]
    public void A_truncated_png_is_unreadable()
    {
        using var dir = new TempDir();
        var random = new Random(3);
        using (var noisy = new SkiaSharp.SKBitmap(64, 64))
        {
            for (int y = 0; y < 64; y++)
                for (int x = 0; x < 64; x++) noisy.SetPixel(x, y, new SkiaSharp.SKColor((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256)));
            Directory.CreateDirectory(dir["a"]);
            using var data = noisy.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
            File.WriteAllBytes(dir["a/whole.png"], data.ToArray());
            File.WriteAllBytes(dir["a/half.png"], data.ToArray()[..(int)(data.Size / 2)]);
        }
        var e = Assert.Throws<DataFormatException>(() => ImageFolderReader.ReadClassFolders(dir.Path, ["a"], null));
        Assert.Contains("1 unreadable", e.Message);
        Assert.Contains("half.png: incomplete or corrupt image data", e.Message);
    }

    [Fact]
    public void A_class_folder_only_under_test_is_named()
    {
        using var dir = new TempDir();
        SyntheticFiles.WritePng(dir["train/cat/0.png"], 8, 8, 10, 20, 30);
        SyntheticFiles.WritePng(dir["test/cat/0.png"], 8, 8, 4, 5, 6);
        SyntheticFiles.WritePng(dir["test/dog/0.png"], 8, 8, 4, 5, 6);
        var e = Assert.Throws<DataFormatException>(() => DataBundle.Load(new DataOptions("imagefolder", dir.Path)));
        Assert.Contains("class folder(s) dog have no counterpart", e.Message);
    }

    [Fact]
    public void Unreadable_image_and_empty_class_folder_are_named()
    {
        using var dir = new TempDir();
        SyntheticFiles.WritePng(dir["a/0.png"], 4, 4, 1, 1, 1);
        File.WriteAllText(dir["a/broken.jpg"], "not a jpeg");
        var e = Assert.Throws<DataFormatException>(() => ImageFolderReader.ReadClassFolders(dir.Path, ["a"], null));
        Assert.Contains("broken.jpg", e.Message);
        Assert.Contains("1 unreadable", e.Message);

        Directory.CreateDirectory(dir["b"]);
        var empty = Assert.Throws<DataFormatException>(() => ImageFolderReader.ListClassFolders(dir.Path, ["a", "b"]));
        Assert.Contains("empty class folder", empty.Message);
        Assert.Contains(dir["b"], empty.Message);
    }

    [Fact]
    public void Tiny_imagenet_layout_reads_validation_labels_from_annotations()
    {
        using var dir = new TempDir();
        File.WriteAllLines(dir["wnids.txt"], ["n02", "n01"]);
        SyntheticFiles.WritePng(dir["train/n01/images/n01_0.JPEG"], 6, 6, 1, 1, 1);
        SyntheticFiles.WritePng(dir["train/n02/images/n02_0.JPEG"], 6, 6, 2, 2, 2);
        SyntheticFiles.WritePng(dir["val/images/val_0.JPEG"], 6, 6, 3, 3, 3);
        SyntheticFiles.WritePng(dir["val/images/val_1.JPEG"], 6, 6, 4, 4, 4);
        File.WriteAllLines(dir["val/val_annotations.txt"], ["val_0.JPEG\tn02\t0\t0\t5\t5", "val_1.JPEG\tn01\t0\t0\t5\t5"]);
        var (train, val) = ImageFolderReader.ReadTinyImageNet(dir.Path, null);
        using (train) using (val)
        {
            Assert.Equal(new[] { "n01", "n02" }, train.Classes);
            Assert.Equal(new long[] { 1, 0 }, val.Labels);
            Assert.Equal(3, val.Images[0, 0, 0, 0].item<byte>());
        }
    }

    [Fact]
    public void Domain_sets_hold_out_the_named_domain()
    {
        using var dir = new TempDir();
        foreach (string domain in new[] { "photo", "sketch" })
            foreach (string cls in new[] { "dog", "horse" })
                for (int i = 0; i < 2; i++) SyntheticFiles.WritePng(dir[$"{domain}/{cls}/{i}.png"], 10, 10, 5, 5, 5);
        using var bundle = DataBundle.Load(new DataOptions("pacs", dir.Path, ImageSize: 8, TestDomain: "sketch"));
        Assert.Equal(4, bundle.Train.Count);
        Assert.Equal(4, bundle.Test.Count);
        Assert.Contains("sketch", bundle.Test.Source);
        var e = Assert.Throws<UsageException>(() => DataBundle.Load(new DataOptions("pacs", dir.Path, TestDomain: "cartoon")));
        Assert.Contains("--test-domain", e.Message);
    }

    [Fact]
    public void Missing_directory_and_unknown_dataset_are_usage_errors()
    {
        Assert.Contains("--data /no/such/dir", Assert.Throws<UsageException>(() => DataBundle.Load(new DataOptions("mnist", "/no/such/dir"))).Message);
        Assert.Contains("--dataset 'imagenet-21k'", Assert.Throws<UsageException>(() => DataBundle.Load(new DataOptions("imagenet-21k", "/tmp"))).Message);
    }

    [FashionMnistFact]
    public void Real_fashion_mnist_has_the_published_sizes()
    {
        using var bundle = DataBundle.Load(new DataOptions("fashion-mnist"));
        Assert.Equal(60000, bundle.Train.Count);
        Assert.Equal(10000, bundle.Test.Count);
        Assert.Equal(new long[] { 1, 28, 28 }, bundle.SampleShape);
        Assert.InRange(bundle.Mean[0], 0.285, 0.287);   // published: 0.2860
        Assert.InRange(bundle.Std[0], 0.352, 0.354);    // published: 0.3530
        Assert.Equal(6000, bundle.Train.Labels.Count(l => l == 3));
    }
}
