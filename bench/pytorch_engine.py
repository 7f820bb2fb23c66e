"""PyTorch's column of `npm run bench -- engine`: the same workloads as bench/engine.ts, timed the
same way, in a process that bench/engine.ts starts once and questions workload by workload, so
both sides are measured in one run's timeline. One JSON request per stdin line,
  {"model": "mlp:196-30-10", "batch": 500, "steps": 50, "hvps": 40, "reps": 7, "threads": 1}
one JSON answer per stdout line,
  {"model": ..., "batch": ..., "backend": "pytorch-cpu", "trainImagesPerSecond": ..., "hvpsPerSecond": ...}.
Train step: the batch gathered from the data set by a fresh permutation, forward, label-smoothed
cross entropy (0.1), backward, torch.optim.SGD (lr 0.01, momentum 0.9, weight decay 5e-4), the
loss kept as a tensor (never read back, as our trainer reads it once every few steps). HVP: the
exact Hessian-vector product by double backprop over the same batch. A repeat times `steps` steps
and `hvps` HVPs; medians over `reps` repeats after one warm-up, as bench/engine.ts does."""
import json
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

from pytorch_models import build  # noqa: E402


SPENT = {"cpu": 0.0, "wall": 0.0}  # in the timed repeats: the `cores` figure


def median_seconds(fn, reps):
    fn()
    times = []
    cpu0 = time.process_time()
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    SPENT["cpu"] += time.process_time() - cpu0
    SPENT["wall"] += sum(times)
    times.sort()
    return times[reps // 2]


def synthetic(shape, n):
    size = math.prod(shape)
    x = torch.sin(torch.arange(n * size, dtype=torch.float64) * 0.37).float().reshape(n, *shape)
    y = torch.arange(n) % 10
    return x, y


def measure(req):
    SPENT["cpu"] = SPENT["wall"] = 0.0
    torch.set_num_threads(int(req.get("threads", 1)))
    torch.manual_seed(0)
    model, shape = build(req["model"])
    batch, steps, reps = int(req["batch"]), int(req["steps"]), int(req["reps"])
    x, y = synthetic(shape, batch)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, dampening=0, weight_decay=5e-4)
    losses = []

    def train():
        for _ in range(steps):
            idx = torch.randperm(batch)
            xb, yb = x[idx], y[idx]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            losses.append(loss.detach())
        losses.clear()

    train_ips = steps * batch / median_seconds(train, reps)
    params = [p for p in model.parameters()]
    v = [torch.ones_like(p) for p in params]

    def hvp():
        grads = torch.autograd.grad(loss_fn(model(x), y), params, create_graph=True)
        dot = sum((g * u).sum() for g, u in zip(grads, v))
        return torch.autograd.grad(dot, params)

    calls = int(req.get("hvps", 1))

    def hvps_in_a_repeat():
        for _ in range(calls):
            hvp()

    hvps = calls / median_seconds(hvps_in_a_repeat, reps)
    return {"model": req["model"], "batch": batch, "backend": "pytorch-cpu", "trainImagesPerSecond": train_ips,
            "hvpsPerSecond": hvps, "torch": torch.__version__, "params": sum(p.numel() for p in params),
            "cores": SPENT["cpu"] / SPENT["wall"]}


def main():
    print(json.dumps({"ready": True, "torch": torch.__version__}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            print(json.dumps(measure(json.loads(line))), flush=True)
        except Exception as err:  # reported to the bench, which names the workload
            print(json.dumps({"error": f"{type(err).__name__}: {err}"}), flush=True)


if __name__ == "__main__":
    main()
