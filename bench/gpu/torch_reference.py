"""PyTorch reference for bench/gpu: the same VGG-like net (bench/gpu/vgg-like.ts), batch 500,
one SGD train step timed after warm-up, fp32 and TF32. Prints one JSON object."""
import json
import time

import torch
import torch.nn as nn


def vgg_like():
    return nn.Sequential(
        nn.Conv2d(3, 64, 3, padding=1), nn.ReLU(),
        nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(),
        nn.Conv2d(128, 128, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(128, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(256 * 4 * 4, 10),
    )


def images_per_second(tf32, batch=500, steps=20):
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    torch.manual_seed(0)
    model = vgg_like().cuda()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)
    x = torch.randn(batch, 3, 32, 32, device="cuda")
    y = torch.randint(0, 10, (batch,), device="cuda")
    times = []
    for step in range(steps + 5):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss_fn(model(x), y).backward()
        opt.step()
        torch.cuda.synchronize()
        if step >= 5:
            times.append(time.perf_counter() - t0)
    times.sort()
    return batch / times[len(times) // 2], sum(p.numel() for p in model.parameters())


if __name__ == "__main__":
    fp32, params = images_per_second(False)
    tf32, _ = images_per_second(True)
    print(json.dumps({"device": torch.cuda.get_device_name(0), "torch": torch.__version__, "params": params,
                      "trainImagesPerSecondFp32": fp32, "trainImagesPerSecondTf32": tf32}))
