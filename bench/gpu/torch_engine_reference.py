"""PyTorch reference for bench/gpu/torch-engine.sh: the VGG-like net and PreAct-ResNet18
(bench/pytorch_models.py, the networks of src/models/networks.ts in plain PyTorch), batch 500:
SGD train steps (momentum 0.9, weight decay 5e-4, label smoothing 0.1) on batches gathered on the
GPU from a data set of 10 batches by a fresh permutation each epoch, as the native trainer does,
and one exact HVP by double backprop, fp32 and TF32; medians after warm-up. Prints one JSON
object."""
import json
import os
import sys
import time

import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from pytorch_models import PreActResNet18, vgg_like  # noqa: E402


# REPRO_GPU_BENCH_DRY=1: the same flow on the CPU at toy sizes (bench/gpu/torch-engine.sh's dry run).
DRY = os.environ.get("REPRO_GPU_BENCH_DRY") == "1"
DEVICE = "cpu" if DRY else "cuda"


def sync():
    if not DRY:
        torch.cuda.synchronize()


def timed(fn, warmup, reps):
    times = []
    for r in range(warmup + reps):
        sync()
        t0 = time.perf_counter()
        fn()
        sync()
        if r >= warmup:
            times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]


def measure(make, tf32, batch=4 if DRY else 500, steps=2 if DRY else 10):
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    torch.manual_seed(0)
    model = make().to(DEVICE)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)
    n = 10 * batch
    xs = torch.randn(n, 3, 32, 32, device=DEVICE)
    ys = torch.randint(0, 10, (n,), device=DEVICE)
    losses = []

    def epoch():
        order = torch.randperm(n, device=DEVICE)
        for k in range(steps):
            idx = order[k * batch:(k + 1) * batch]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xs[idx]), ys[idx])
            loss.backward()
            opt.step()
            losses.append(loss.detach())
        losses.clear()

    params = [p for p in model.parameters()]
    v = [torch.randn_like(p) for p in params]
    x, y = xs[:batch], ys[:batch]

    def hvp():
        grads = torch.autograd.grad(loss_fn(model(x), y), params, create_graph=True)
        dot = sum((g * u).sum() for g, u in zip(grads, v))
        return torch.autograd.grad(dot, params)

    return {"train img/s": steps * batch / timed(epoch, 1, 3), "HVPs/s": 1 / timed(hvp, 2, 3),
            "params": sum(p.numel() for p in params)}


out = {"device": "cpu (dry run)" if DRY else torch.cuda.get_device_name(0), "torch": torch.__version__}
nets = (("vgg-like", vgg_like), ("preact-resnet18", lambda: PreActResNet18(width=4 if DRY else 64)))
for tf32 in (False, True):
    precision = "tf32" if tf32 else "fp32"
    for name, make in nets:
        m = measure(make, tf32)
        out[f"{name} params"] = m["params"]
        out[f"{name} train img/s {precision}"] = m["train img/s"]
        out[f"{name} HVPs/s {precision}"] = m["HVPs/s"]
        print(f"measured {name} {precision}: {m}", file=sys.stderr, flush=True)
print(json.dumps(out))
