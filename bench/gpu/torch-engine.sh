#!/usr/bin/env bash
# Runs ON the lent GPU machine: builds the torch addon against that machine's PyTorch (CUDA),
# then, in one call, times the torch backend's native programs, its tfjs kernels and PyTorch
# itself (fp32 and TF32) on the VGG-like net and PreAct-ResNet18, batch 500, train step and HVP,
# with host issue time against wall time, reads from the device and fallbacks counted, and native
# HVPs checked against the pure-JS cpu backend. Prepare here first: bash bench/gpu/prepare-torch.sh;
# then, with the device tool: command "bash bench/gpu/torch-engine.sh", carry [".gpu", "dist"],
# timeout_s 540. Everything it prints goes to $OUT too; bench/gpu/RESULTS.md records the figures.
# REPRO_GPU_BENCH_DRY=1 runs the same flow here on the CPU at toy sizes (this machine's node and
# Debian's python3-torch), to check the script before spending device time.
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-$(mktemp -d)}
exec > >(tee "$out/log.txt") 2>&1
dry=${REPRO_GPU_BENCH_DRY:-0}
if [ "$dry" = 1 ]; then
  node=$(command -v node)
  python=${REPRO_BENCH_PYTHON:-/usr/bin/python3}
else
  xz -dc .gpu/node.xz > /tmp/node && chmod +x /tmp/node
  node=/tmp/node
  python=python3
  # A worktree whose node_modules is a link to another checkout carries the link, dangling here.
  if [ -L node_modules ] && [ ! -e node_modules ]; then rm node_modules; fi
  mkdir -p node_modules && tar -xJf .gpu/torch-modules.tar.xz -C node_modules
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/gpu.txt"
fi
start=$(date +%s)
bash infra/scripts/build-torch.sh || { cat .tools/torch/build.log; exit 1; }
echo "addon built in $(( $(date +%s) - start )) s: $(cat .tools/torch/build-info.json)"
PYTHONUNBUFFERED=1 timeout 200 "$python" bench/gpu/torch_engine_reference.py | tee "$out/pytorch.json"
timeout 300 "$node" dist/bench/gpu/torch-engine.js | tee "$out/torch-engine.json"
"$python" - "$out" <<'PY'
import json, sys
out = sys.argv[1]
p = json.load(open(f"{out}/pytorch.json")); t = json.load(open(f"{out}/torch-engine.json"))
print(f"device {p['device']}, PyTorch {p['torch']}, addon {t['torch']}")
print("| workload (batch 500) | native | tfjs kernels | PyTorch fp32 | PyTorch TF32 | native / PyTorch fp32 |")
print("|---|---|---|---|---|---|")
for net in ("vgg-like", "preact-resnet18"):
    for prec in ("fp32", "tf32"):
        ref = p[f"{net} train img/s fp32"]
        nat = t[f"{net} native train {prec}"]["imagesPerSecond"]
        tfjs = t.get(f"{net} tfjs train img/s {prec}")
        tfjs_cell = f"{tfjs:.4g}" if tfjs else "-"
        print(f"| {net} train img/s, {prec} | {nat:.4g} | {tfjs_cell} | {ref:.4g} "
              f"| {p[f'{net} train img/s tf32']:.4g} | {nat / ref:.3f} |")
        ref = p[f"{net} HVPs/s fp32"]
        nat = t[f"{net} native HVPs/s {prec}"]
        tfjs = t.get(f"{net} tfjs HVPs/s {prec}")
        tfjs_cell = f"{tfjs:.4g}" if tfjs else "-"
        print(f"| {net} HVPs/s, {prec} | {nat:.4g} | {tfjs_cell} | {ref:.4g} "
              f"| {p[f'{net} HVPs/s tf32']:.4g} | {nat / ref:.3f} |")
for net in ("vgg-like", "preact-resnet18"):
    for prec in ("fp32", "tf32"):
        i = t[f"{net} native issue {prec}"]
        r = t[f"{net} native train {prec}"]
        print(f"{net} {prec}: host issue {i['hostIssueMsPerStep']:.2f} ms/step against wall {i['wallMsPerStep']:.2f}"
              f" ms/step ({i['imagesPerSecond']:.4g} img/s issued straight); Trainer {r['imagesPerSecond']:.4g} img/s,"
              f" {r['syncsPerRun']} device reads per 20-step run; HVP reads per HVP"
              f" {t[f'{net} native HVP reads per HVP {prec}']}")
print("fallbacks:", t["fallbacks"])
print("HVP native vs cpu backend, relative difference:", t["hvpNativeVsCpuRelativeDifference"])
print("addon tensors at the end:", t["addonTensorsAtEnd"])
PY
