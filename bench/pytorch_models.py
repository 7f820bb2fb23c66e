"""The project's networks (src/models/networks.ts) in plain PyTorch, for the benchmarks' PyTorch
columns: `mlp:IN-...-OUT`, `small-cnn`, `convnet4`, `preact-resnet18[:WIDTH]`, `vgg16-bn[:WIDTH]`
and the GPU benchmark's `vgg-like`. The same layers, widths and parameter counts, written the way a
PyTorch user writes them (NCHW, `padding=1` convolutions, nn.BatchNorm2d), so the yardstick is
PyTorch as it is ordinarily used."""
import torch.nn as nn
import torch.nn.functional as F


def mlp(dims):
    layers = []
    for i in range(1, len(dims)):
        layers.append(nn.Linear(dims[i - 1], dims[i]))
        if i < len(dims) - 1:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class SmallCnn(nn.Module):
    def __init__(self, channels=3):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, 15, 3, padding=1)
        self.conv2 = nn.Conv2d(15, 20, 3, padding=1)
        self.conv3 = nn.Conv2d(20, 10, 3, padding=1)

    def forward(self, x):
        h = F.max_pool2d(F.relu(self.conv1(x)), 2)
        h = F.max_pool2d(F.relu(self.conv2(h)), 2)
        return self.conv3(h).mean((2, 3))


def convnet4(classes=10):
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(12 * 12 * 64, 128), nn.ReLU(), nn.Linear(128, classes),
    )


class PreActBlock(nn.Module):
    def __init__(self, cin, planes, stride):
        super().__init__()
        self.bn1, self.bn2 = nn.BatchNorm2d(cin), nn.BatchNorm2d(planes)
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.shortcut = nn.Conv2d(cin, planes, 1, stride, bias=False) if stride != 1 or cin != planes else None

    def forward(self, x):
        out = F.relu(self.bn1(x))
        shortcut = self.shortcut(out) if self.shortcut is not None else x
        out = self.conv1(out)
        out = self.conv2(F.relu(self.bn2(out)))
        return out + shortcut


class PreActResNet18(nn.Module):
    def __init__(self, classes=10, width=64):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, 3, 1, 1, bias=False)
        blocks, cin = [], width
        for layer, planes in enumerate([width, 2 * width, 4 * width, 8 * width]):
            for block in range(2):
                blocks.append(PreActBlock(cin, planes, 2 if block == 0 and layer > 0 else 1))
                cin = planes
        self.blocks = nn.Sequential(*blocks)
        self.linear = nn.Linear(8 * width, classes)

    def forward(self, x):
        out = self.blocks(self.conv1(x))
        return self.linear(out.mean((2, 3)))


VGG16 = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]


def vgg16_bn(classes=10, width=64):
    layers, cin = [], 3
    for item in VGG16:
        if item == "M":
            layers.append(nn.MaxPool2d(2))
            continue
        c = item * width // 64
        layers += [nn.Conv2d(cin, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU()]
        cin = c
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(cin, classes))


def vgg_like():
    return nn.Sequential(
        nn.Conv2d(3, 64, 3, padding=1), nn.ReLU(),
        nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(),
        nn.Conv2d(128, 128, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(128, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(256 * 4 * 4, 10),
    )


def build(spec):
    """A network and its per-sample input shape (C, H, W or features) from a model spec."""
    kind, _, arg = spec.partition(":")
    if kind == "mlp":
        dims = [int(d) for d in arg.split("-")]
        return mlp(dims), (dims[0],)
    if kind == "small-cnn":
        return SmallCnn(), (3, 32, 32)
    if kind == "convnet4":
        return convnet4(), (1, 28, 28)
    if kind == "preact-resnet18":
        return PreActResNet18(width=int(arg or 64)), (3, 32, 32)
    if kind == "vgg16-bn":
        return vgg16_bn(width=int(arg or 64)), (3, 32, 32)
    if kind == "vgg-like":
        return vgg_like(), (3, 32, 32)
    raise ValueError(f"unknown model {spec}")
