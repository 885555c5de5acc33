using DepthPrune.Data.Transforms;
using DepthPrune.Runtime;

namespace DepthPrune.Data;

/// <summary>The registry of data sets a user names with --dataset.</summary>
public static class DatasetPresets
{
    public const string FashionMnistDirectory = "/usr/share/datasets/fashion-mnist";

    static readonly string[] FashionClasses =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];
    static readonly string[] Digits = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    static IReadOnlyList<BatchTransform> None(long[] shape, DataOptions o) => [];
    static IReadOnlyList<BatchTransform> CropFlip(long[] shape, DataOptions o) =>
        [new RandomCrop((int)shape[2], padding: (int)shape[2] / 8), new RandomFlip(horizontal: true)];
    static IReadOnlyList<BatchTransform> Flip(long[] shape, DataOptions o) => [new RandomFlip(horizontal: true)];
    // Transfer-learning sets are decoded at LoadSize (the crop size * 8/7) and cropped at the crop size.
    static int CropSize(DataOptions o) => o.ImageSize ?? 224;
    static int LoadSize(DataOptions o) => (int)Math.Round(CropSize(o) * 8 / 7.0);
    static IReadOnlyList<BatchTransform> TransferTrain(long[] shape, DataOptions o) =>
        [new RandomResizedCrop(CropSize(o), minScale: 0.25), new RandomFlip(horizontal: true), new ColorJitter(0.2, 0.2, 0.2)];
    static IReadOnlyList<BatchTransform> TransferEval(long[] shape, DataOptions o) => [new ResizeCentreCrop(CropSize(o), CropSize(o))];

    public static IReadOnlyList<DatasetPreset> All { get; } =
    [
        new("fashion-mnist", "Fashion-MNIST, IDX files (Debian package dataset-fashion-mnist)", FashionMnistDirectory,
            (dir, _) => (IdxReader.ReadSplit(dir, "train", FashionClasses), IdxReader.ReadSplit(dir, "t10k", FashionClasses)), Flip, None),
        new("mnist", "MNIST, IDX files", null,
            (dir, _) => (IdxReader.ReadSplit(dir, "train", Digits), IdxReader.ReadSplit(dir, "t10k", Digits)), None, None),
        new("cifar10", "CIFAR-10: binary batches or an image tree {train,test}/<class>/*.jpg|png", null, ReadCifar10, CropFlip, None),
        new("tiny-imagenet", "Tiny-ImageNet-200: train/<wnid>/images, val/images + val_annotations.txt", null,
            (dir, o) => ImageFolderReader.ReadTinyImageNet(dir, o.ImageSize), CropFlip, None),
        new("pacs", "PACS: <domain>/<class>/; --test-domain holds one domain out, else a seeded 80/20 split", null, ReadDomains, TransferTrain, TransferEval),
        new("vlcs", "VLCS: <domain>/<class>/; --test-domain holds one domain out, else a seeded 80/20 split", null, ReadDomains, TransferTrain, TransferEval),
        new("flowers102", "Flowers-102 as class folders: {train,valid,test}/<class>/ or <class>/", null, ReadImageTree, TransferTrain, TransferEval),
        new("dtd", "DTD: images/<class>/ with labels/train1.txt and labels/test1.txt", null, ReadDtd, TransferTrain, TransferEval),
        new("aircraft", "FGVC-Aircraft: data/images/ with data/images_variant_{trainval,test}.txt", null, ReadAircraft, TransferTrain, TransferEval),
        new("imagefolder", "Any image tree: {train,test}/<class>/ or <class>/ (seeded 80/20 split); --image-size resizes", null,
            (dir, o) => ReadImageTree(dir, o, o.ImageSize), CropFlip, None),
    ];

    public static DatasetPreset Get(string name) =>
        All.FirstOrDefault(p => p.Name == name)
        ?? throw new UsageException($"--dataset '{name}': unknown; expected one of {string.Join(", ", All.Select(p => p.Name))}");

    static (ImageSet, ImageSet) ReadCifar10(string dir, DataOptions o)
    {
        if (CifarBinaryReader.LooksLikeBinary(dir)) return CifarBinaryReader.ReadDirectory(dir);
        if (Directory.Exists(Path.Combine(dir, "cifar10-jpeg"))) dir = Path.Combine(dir, "cifar10-jpeg");
        if (!Directory.Exists(Path.Combine(dir, "train")))
            throw new DataFormatException($"{dir}: neither CIFAR-10 binary batches (data_batch_1.bin) nor an image tree (train/<class>/)");
        return ReadImageTree(dir, o, o.ImageSize);
    }

    static (ImageSet, ImageSet) ReadImageTree(string dir, DataOptions o) => ReadImageTree(dir, o, LoadSize(o));

    static (ImageSet, ImageSet) ReadImageTree(string dir, DataOptions o, int? size)
    {
        string train = Path.Combine(dir, "train");
        string? test = new[] { "test", "val", "valid" }.Select(s => Path.Combine(dir, s)).FirstOrDefault(Directory.Exists);
        if (Directory.Exists(train) && test is not null)
        {
            string[] classes = ImageFolderReader.ClassFolders(train);
            // A class only under test/ would otherwise be dropped without a word (its images never evaluated).
            if (ImageFolderReader.ClassFolders(test).Except(classes).ToList() is { Count: > 0 } testOnly)
                throw new DataFormatException($"{test}: class folder(s) {string.Join(", ", testOnly)} have no counterpart in {train}; train and test need the same classes");
            return (ImageFolderReader.ReadClassFolders(train, classes, size), ImageFolderReader.ReadClassFolders(test, classes, size));
        }
        string[] all = ImageFolderReader.ClassFolders(dir);
        return SplitSeeded(ImageFolderReader.ListClassFolders(dir, all), all, size, o, dir);
    }

    static (ImageSet, ImageSet) ReadDomains(string dir, DataOptions o)
    {
        string[] domains = ImageFolderReader.ClassFolders(dir);
        string[] classes = ImageFolderReader.ClassFolders(Path.Combine(dir, domains[0]));
        if (o.TestDomain is null)
            return SplitSeeded(domains.SelectMany(d => ImageFolderReader.ListClassFolders(Path.Combine(dir, d), classes)).ToList(), classes, LoadSize(o), o, dir);
        if (!domains.Contains(o.TestDomain))
            throw new UsageException($"--test-domain '{o.TestDomain}': expected one of {string.Join(", ", domains)}");
        var train = domains.Where(d => d != o.TestDomain).SelectMany(d => ImageFolderReader.ListClassFolders(Path.Combine(dir, d), classes)).ToList();
        var test = ImageFolderReader.ListClassFolders(Path.Combine(dir, o.TestDomain), classes);
        return (ImageDecoder.DecodeAll(train, classes, LoadSize(o), dir), ImageDecoder.DecodeAll(test, classes, LoadSize(o), Path.Combine(dir, o.TestDomain)));
    }

    static (ImageSet, ImageSet) SplitSeeded(List<LabelledFile> files, string[] classes, int? size, DataOptions o, string source)
    {
        var shuffled = files.ToArray();
        new Random(Seeding.Derive(o.Seed, 7002)).Shuffle(shuffled);
        int testCount = shuffled.Length / 5;
        return (ImageDecoder.DecodeAll(shuffled[testCount..], classes, size, source + " (80% seeded split)"),
                ImageDecoder.DecodeAll(shuffled[..testCount], classes, size, source + " (20% seeded split)"));
    }

    static (ImageSet, ImageSet) ReadDtd(string dir, DataOptions o)
    {
        string images = Path.Combine(dir, "images");
        string[] classes = ImageFolderReader.ClassFolders(images);
        (string, string) Parse(string line) => (line, line.Split('/')[0]);
        return (ImageFolderReader.ReadSplitList(Path.Combine(dir, "labels", "train1.txt"), images, Parse, classes, LoadSize(o)),
                ImageFolderReader.ReadSplitList(Path.Combine(dir, "labels", "test1.txt"), images, Parse, classes, LoadSize(o)));
    }

    static (ImageSet, ImageSet) ReadAircraft(string dir, DataOptions o)
    {
        string data = Path.Combine(dir, "data");
        string variants = Path.Combine(data, "variants.txt");
        if (!File.Exists(variants)) throw new DataFormatException($"{variants}: not found (FGVC-Aircraft class list)");
        string[] classes = File.ReadAllLines(variants).Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
        (string, string) Parse(string line)
        {
            int space = line.IndexOf(' ');
            if (space <= 0) throw new DataFormatException($"expected '<id> <variant>', got '{line}'");
            return (line[..space] + ".jpg", line[(space + 1)..]);
        }
        string images = Path.Combine(data, "images");
        return (ImageFolderReader.ReadSplitList(Path.Combine(data, "images_variant_trainval.txt"), images, Parse, classes, LoadSize(o)),
                ImageFolderReader.ReadSplitList(Path.Combine(data, "images_variant_test.txt"), images, Parse, classes, LoadSize(o)));
    }
}
