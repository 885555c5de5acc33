namespace DepthPrune.Tests;

/// <summary>A temporary folder removed when the test ends.</summary>
public sealed class TempDir : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "depthprune-test-" + Guid.NewGuid().ToString("N")[..10]);
    public TempDir() => Directory.CreateDirectory(Path);
    public string this[string relative] => System.IO.Path.Combine(Path, relative);
    public void Dispose() { try { Directory.Delete(Path, true); } catch (IOException) { } }
}

/// <summary>A test that needs the real Fashion-MNIST (scripts/test installs it); skipped where absent.</summary>
public sealed class FashionMnistFactAttribute : FactAttribute
{
    public FashionMnistFactAttribute()
    {
        if (!File.Exists(System.IO.Path.Combine(DepthPrune.Data.DatasetPresets.FashionMnistDirectory, "train-images-idx3-ubyte.gz")))
            Skip = "Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)";
    }
}
