using DepthPrune.Data;
using DepthPrune.Models;
using DepthPrune.Runtime;
using DepthPrune.Training;
using SkiaSharp;

namespace DepthPrune.Bench;

/// <summary>Images per second delivered by the loader (train transforms, batch 128, built in the training thread),
/// for Fashion-MNIST and for a folder of generated JPEGs, against LeNet-5's training throughput.</summary>
static class LoaderBench
{
    public static void Run(int repeats)
    {
        using var fashion = DataBundle.Load(new DataOptions("fashion-mnist", TrainSubset: 20000));
        double fashionLoader = fashion.Train.Count / Timing.Median(repeats, () => Drain(fashion.TrainLoader(128, 1, Compute.Cpu)));

        string folder = Path.Combine(Path.GetTempPath(), "depthprune-bench-jpeg");
        WriteJpegs(folder, classes: 10, perClass: 500, size: 32);
        double decode = 0;
        DataBundle? jpeg = null;
        decode = 5000 / Timing.Median(Math.Max(1, repeats / 2), () => { jpeg?.Dispose(); jpeg = DataBundle.Load(new DataOptions("imagefolder", folder)); });
        double jpegLoader = jpeg!.Train.Count / Timing.Median(repeats, () => Drain(jpeg.TrainLoader(128, 1, Compute.Cpu)));

        Seeding.Seed(0);
        using var lenet = ModelZoo.Create("lenet5", new ModelOptions(Classes: 10, InChannels: 1, InputSize: 28));
        var train = new TrainOptions { Epochs = 1, BatchSize = 128, LearningRate = 0.05 };
        double lenetTrain = fashion.Train.Count / Timing.Median(repeats, () => Trainer.Fit(lenet, fashion, train, Compute.Cpu, new TrainHooks()));

        Console.WriteLine("## Loader throughput (median of " + repeats + ")");
        Console.WriteLine();
        Console.WriteLine("| what | images/s | ratio to LeNet-5 training |");
        Console.WriteLine("|---|---:|---:|");
        Console.WriteLine($"| Fashion-MNIST loader (flip + normalise, batch 128) | {fashionLoader:N0} | {fashionLoader / lenetTrain:F1}x |");
        Console.WriteLine($"| JPEG folder, 32x32, decode into memory (SkiaSharp, parallel) | {decode:N0} | {decode / lenetTrain:F1}x |");
        Console.WriteLine($"| JPEG folder loader (crop + flip + normalise, batch 128) | {jpegLoader:N0} | {jpegLoader / lenetTrain:F1}x |");
        Console.WriteLine($"| LeNet-5 training on Fashion-MNIST (forward + backward + SGD step, loader included) | {lenetTrain:N0} | 1.0x |");
        Console.WriteLine();
        jpeg.Dispose();
        Directory.Delete(folder, true);
    }

    static void Drain(BatchLoader loader)
    {
        foreach (var batch in loader.Epoch(0)) batch.Dispose();
    }

    static void WriteJpegs(string root, int classes, int perClass, int size)
    {
        if (Directory.Exists(root)) Directory.Delete(root, true);
        var random = new Random(1);
        for (int c = 0; c < classes; c++)
        {
            string dir = Path.Combine(root, $"class{c}");
            Directory.CreateDirectory(dir);
            for (int i = 0; i < perClass; i++)
            {
                using var bitmap = new SKBitmap(size, size, SKColorType.Rgba8888, SKAlphaType.Opaque);
                for (int y = 0; y < size; y++)
                    for (int x = 0; x < size; x++)
                        bitmap.SetPixel(x, y, new SKColor((byte)random.Next(256), (byte)(x * 8), (byte)(y * 8)));
                using var image = SKImage.FromBitmap(bitmap);
                using var data = image.Encode(SKEncodedImageFormat.Jpeg, 75);
                File.WriteAllBytes(Path.Combine(dir, $"{i:D4}.jpg"), data.ToArray());
            }
        }
    }
}
