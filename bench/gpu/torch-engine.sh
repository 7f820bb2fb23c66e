#!/usr/bin/env bash
# Runs ON the lent GPU machine: builds the torch addon against that machine's PyTorch (CUDA),
# checks HVP agreement with the cpu backend, and times tfjs-on-torch-cuda against PyTorch itself
# on the same workloads in one call (VGG-like and PreAct-ResNet18, batch 500, train step and
# HVP, fp32 and TF32). Prepare here first: bash bench/gpu/prepare-torch.sh; then, with the device
# tool: command "bash bench/gpu/torch-engine.sh", carry [".gpu", "dist"], timeout_s 540.
# Everything it prints goes to $OUT too; bench/gpu/RESULTS.md records the figures.
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-$(mktemp -d)}
exec > >(tee "$out/log.txt") 2>&1
xz -dc .gpu/node.xz > /tmp/node && chmod +x /tmp/node
export PATH="/tmp:$PATH"
mkdir -p node_modules && tar -xJf .gpu/torch-modules.tar.xz -C node_modules
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/gpu.txt"
start=$(date +%s)
bash infra/scripts/build-torch.sh || { cat .tools/torch/build.log; exit 1; }
echo "addon built in $(( $(date +%s) - start )) s: $(cat .tools/torch/build-info.json)"
PYTHONUNBUFFERED=1 timeout 200 python3 bench/gpu/torch_engine_reference.py | tee "$out/pytorch.json"
timeout 280 /tmp/node dist/bench/gpu/torch-engine.js | tee "$out/tfjs-torch.json"
python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
p = json.load(open(f"{out}/pytorch.json")); t = json.load(open(f"{out}/tfjs-torch.json"))
print(f"device {p['device']}, PyTorch {p['torch']}, addon {t['torch']}")
print("| workload | tfjs on torch-cuda | PyTorch fp32 | PyTorch TF32 | ratio to PyTorch fp32 |")
print("|---|---|---|---|---|")
for net in ("vgg-like", "preact-resnet18"):
    for what in ("train img/s", "HVPs/s"):
        for prec in ("fp32", "tf32"):
            ours = t[f"{net} {what} {prec}"]
            print(f"| {net} {what} batch 500, {prec} | {ours:.4g} | {p[f'{net} {what} fp32']:.4g} | {p[f'{net} {what} tf32']:.4g} "
                  f"| {ours / p[f'{net} {what} fp32']:.3f} |")
print("HVP torch-cuda vs cpu backend, relative difference:", t["hvpTorchVsCpuRelativeDifference"])
PY
