"""PyTorch reference for bench/gpu/torch-engine.sh: the VGG-like net (bench/gpu/vgg-like.ts) and
PreAct-ResNet18 (src/models/networks.ts, 11,171,146 parameters), batch 500: one SGD train step
(momentum 0.9, label smoothing 0.1) and one exact HVP by double backprop, fp32 and TF32, medians
after warm-up. Prints one JSON object."""
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_reference import vgg_like  # the same net bench/gpu/run.sh times


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
        return self.linear(F.adaptive_avg_pool2d(out, 1).flatten(1))


def timed(fn, warmup, reps):
    times = []
    for r in range(warmup + reps):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        if r >= warmup:
            times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]


def measure(make, tf32, batch=500):
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    torch.manual_seed(0)
    model = make().cuda()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)
    x = torch.randn(batch, 3, 32, 32, device="cuda")
    y = torch.randint(0, 10, (batch,), device="cuda")

    def step():
        opt.zero_grad(set_to_none=True)
        loss_fn(model(x), y).backward()
        opt.step()

    params = [p for p in model.parameters()]
    v = [torch.randn_like(p) for p in params]

    def hvp():
        grads = torch.autograd.grad(loss_fn(model(x), y), params, create_graph=True)
        dot = sum((g * u).sum() for g, u in zip(grads, v))
        return torch.autograd.grad(dot, params)

    return {"train img/s": batch / timed(step, 5, 10), "HVPs/s": 1 / timed(hvp, 2, 3),
            "params": sum(p.numel() for p in params)}


out = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__}
for tf32 in (False, True):
    precision = "tf32" if tf32 else "fp32"
    for name, make in (("vgg-like", vgg_like), ("preact-resnet18", PreActResNet18)):
        m = measure(make, tf32)
        out[f"{name} params"] = m["params"]
        out[f"{name} train img/s {precision}"] = m["train img/s"]
        out[f"{name} HVPs/s {precision}"] = m["HVPs/s"]
        print(f"measured {name} {precision}: {m}", file=sys.stderr, flush=True)
print(json.dumps(out))
