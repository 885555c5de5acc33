using DepthPrune.Models.Architectures;
using DepthPrune.Runtime;

namespace DepthPrune.Models;

/// <summary>The registry of models a user names with --model.</summary>
public static class ModelZoo
{
    public sealed record Entry(string Name, string Description, ModelOptions Reference, Func<ModelOptions, ZooModel> Create);

    public static IReadOnlyList<Entry> All { get; } =
    [
        new("resnet18", "ResNet-18, ImageNet stem (7x7/2 conv + max pool)", new(), o => ResNet18.Create(o, cifarStem: false)),
        new("resnet18-cifar", "ResNet-18, CIFAR stem (3x3/1 conv, no max pool)", new(Classes: 10, InputSize: 32), o => ResNet18.Create(o, cifarStem: true)),
        new("resnet18-cntk", "ResNet-18 layout of the CNTK ImageNet ONNX model (stage 4 has 3 blocks; importable with weights import)", new(), ResNet18.CreateCntk),
        new("mobilenetv2", "MobileNetV2, ImageNet strides", new(), o => MobileNetV2.Create(o, cifar: false)),
        new("mobilenetv2-cifar", "MobileNetV2, CIFAR strides (stem and stage 2 at stride 1)", new(Classes: 10, InputSize: 32), o => MobileNetV2.Create(o, cifar: true)),
        new("vgg16bn", "VGG-16 with BatchNorm (torchvision layout)", new(), Vgg16Bn.Create),
        new("swin-t", "Swin-T: shifted-window transformer, patch 4, window 7", new(), SwinT.Create),
        new("lenet5", "LeNet-5 with ReLU and max pooling", new(Classes: 10, InChannels: 1, InputSize: 28), LeNet5.Create),
        new("mlp", "Three hidden layers of 512 units with ReLU", new(Classes: 10, InChannels: 1, InputSize: 28), Mlp.Create),
    ];

    public static Entry Get(string name) =>
        All.FirstOrDefault(e => e.Name == name)
        ?? throw new UsageException($"--model '{name}': unknown; expected one of {string.Join(", ", All.Select(e => e.Name))}");

    public static ZooModel Create(string name, ModelOptions options)
    {
        if (!(options.Width > 0 && options.Width <= 4)) throw new UsageException($"--width {options.Width}: must lie in (0,4]");
        if (options.Classes is < 2 or > ModelOptions.MaxClasses) throw new UsageException($"classes {options.Classes}: need 2 to {ModelOptions.MaxClassesText}");
        ModelOptions.RequireInput(options.InChannels, options.InputSize, "");
        return Get(name).Create(options);
    }
}
