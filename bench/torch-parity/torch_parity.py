"""PyTorch half of bench/torch-parity/run: the same models as DepthPrune's zoo (same layers,
channel counts and parameter counts), the same tensors, batch, threads and job as our half."""
import os, sys, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def scale(c, width, divisor=1):
    return max(divisor, int(round(c * width / divisor) * divisor))


class BasicBlock(nn.Module):
    def __init__(self, in_c, out_c, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(in_c, out_c, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_c)
        self.conv2 = nn.Conv2d(out_c, out_c, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_c)
        self.downsample = None
        if stride != 1 or in_c != out_c:
            self.downsample = nn.Sequential(nn.Conv2d(in_c, out_c, 1, stride, bias=False), nn.BatchNorm2d(out_c))

    def forward(self, x):
        main = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        shortcut = x if self.downsample is None else self.downsample(x)
        return F.relu(main.add_(shortcut))


class ResNet18Cifar(nn.Module):
    def __init__(self, width, classes=10, in_c=3):
        super().__init__()
        stem = scale(64, width)
        self.conv1 = nn.Conv2d(in_c, stem, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(stem)
        layers, c = [], stem
        for w, stride in [(64, 1), (128, 2), (256, 2), (512, 2)]:
            out = scale(w, width)
            layers += [BasicBlock(c, out, stride), BasicBlock(out, out, 1)]
            c = out
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(c, classes)

    def forward(self, x):
        y = self.layers(F.relu(self.bn1(self.conv1(x))))
        return self.fc(F.adaptive_avg_pool2d(y, 1).flatten(1))


def conv_bn_relu6(in_c, out_c, k, stride, groups):
    return nn.Sequential(nn.Conv2d(in_c, out_c, k, stride, (k - 1) // 2, groups=groups, bias=False), nn.BatchNorm2d(out_c), nn.ReLU6())


class InvertedResidual(nn.Module):
    def __init__(self, in_c, out_c, t, stride):
        super().__init__()
        hidden = in_c * t
        layers = [conv_bn_relu6(in_c, hidden, 1, 1, 1)] if t != 1 else []
        layers += [conv_bn_relu6(hidden, hidden, 3, stride, hidden), nn.Conv2d(hidden, out_c, 1, bias=False), nn.BatchNorm2d(out_c)]
        self.conv = nn.Sequential(*layers)
        self.residual = stride == 1 and in_c == out_c

    def forward(self, x):
        return self.conv(x).add_(x) if self.residual else self.conv(x)


class MobileNetV2Cifar(nn.Module):
    settings = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]

    def __init__(self, width, classes=10, in_c=3):
        super().__init__()
        c = scale(32, width, 8)
        features = [conv_bn_relu6(in_c, c, 3, 1, 1)]
        for stage, (t, ch, n, s) in enumerate(self.settings):
            out = scale(ch, width, 8)
            for i in range(n):
                stride = (1 if stage == 1 else s) if i == 0 else 1
                features.append(InvertedResidual(c, out, t, stride))
                c = out
        last = scale(1280, width, 8) if width > 1 else 1280
        features.append(conv_bn_relu6(c, last, 1, 1, 1))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(last, classes))

    def forward(self, x):
        return self.classifier(F.adaptive_avg_pool2d(self.features(x), 1).flatten(1))


class Vgg16Bn(nn.Module):
    config = [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0]

    def __init__(self, width, classes=10, in_c=3):
        super().__init__()
        layers, c = [], in_c
        for w in self.config:
            if w == 0:
                layers.append(nn.MaxPool2d(2, 2))
                continue
            out = scale(w, width)
            layers += [nn.Conv2d(c, out, 3, padding=1), nn.BatchNorm2d(out), nn.ReLU()]
            c = out
        self.features = nn.Sequential(*layers)
        hidden = scale(4096, width)
        self.classifier = nn.Sequential(nn.Linear(c * 49, hidden), nn.ReLU(), nn.Dropout(0.5),
                                        nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(0.5), nn.Linear(hidden, classes))

    def forward(self, x):
        return self.classifier(F.adaptive_avg_pool2d(self.features(x), 7).flatten(1))


class Mlp(nn.Module):
    def __init__(self, width, classes=10, in_c=3, size=32):
        super().__init__()
        hidden = scale(512, width)
        self.fc1, self.fc2 = nn.Linear(in_c * size * size, hidden), nn.Linear(hidden, hidden)
        self.fc3, self.fc4 = nn.Linear(hidden, hidden), nn.Linear(hidden, classes)

    def forward(self, x):
        x = F.relu(self.fc1(x.flatten(1)))
        return self.fc4(F.relu(self.fc3(F.relu(self.fc2(x)))))


MODELS = {"resnet18-cifar": ResNet18Cifar, "mobilenetv2-cifar": MobileNetV2Cifar, "vgg16bn": Vgg16Bn, "mlp": Mlp}


# PARITY_CHANNELS_LAST=1: PyTorch in the layout DepthPrune's loader gives its batches (not its default).
CHANNELS_LAST = os.environ.get("PARITY_CHANNELS_LAST") == "1"


def layout(x):
    return x.contiguous(memory_format=torch.channels_last) if CHANNELS_LAST else x


def load(directory, name):
    labels = torch.from_numpy(np.fromfile(f"{directory}/{name}.i64", dtype=np.int64))
    images = torch.from_numpy(np.fromfile(f"{directory}/{name}.f32", dtype=np.float32)).reshape(len(labels), 3, 32, 32)
    return images, labels


def train_epoch(model, opt, images, labels, batch, generator):
    model.train()
    order = torch.randperm(len(labels), generator=generator)
    loss_sum, correct = 0.0, 0
    for i in range(0, len(labels), batch):
        idx = order[i:i + batch]
        x, y = layout(images[idx]), labels[idx]
        opt.zero_grad()
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        loss.backward()
        opt.step()
        loss_sum += loss.item() * len(idx)
        correct += (logits.argmax(1) == y).sum().item()
    return loss_sum, correct


def evaluate(model, images, labels):
    model.eval()
    loss, top1 = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(labels), 256):
            x, y = layout(images[i:i + 256]), labels[i:i + 256]
            logits = model(x)
            loss += F.cross_entropy(logits, y, reduction="sum").item()
            top1 += (logits.topk(5, 1).indices[:, 0] == y).sum().item()
    return loss, top1


def main():
    model_name, width, directory, batch, threads = sys.argv[1], float(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    train_x, train_y = load(directory, "train")
    test_x, test_y = load(directory, "test")
    model = MODELS[model_name](width)
    if CHANNELS_LAST:
        model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    generator = torch.Generator().manual_seed(0)
    warm = 3 * batch   # first-call costs, as on our side
    train_epoch(model, opt, train_x[:warm], train_y[:warm], batch, generator)
    evaluate(model, train_x[:warm], train_y[:warm])
    start = time.perf_counter()
    train_epoch(model, opt, train_x, train_y, batch, generator)
    train = time.perf_counter() - start
    start = time.perf_counter()
    evaluate(model, test_x, test_y)
    evaluation = time.perf_counter() - start
    params = sum(p.numel() for p in model.parameters())
    side = "pytorch-channels-last" if CHANNELS_LAST else "pytorch"
    print(f"{side} {model_name} w{width:g} params={params} train_ips={len(train_y) / train:.1f} "
          f"eval_ips={len(test_y) / evaluation:.1f} torch={torch.__version__} threads={torch.get_num_threads()}")


if __name__ == "__main__":
    main()
