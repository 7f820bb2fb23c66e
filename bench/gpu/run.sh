#!/usr/bin/env bash
# Runs ON the lent GPU machine (shared/GPU.md): tfjs on WebGPU and PyTorch on the same VGG-like
# workload in one call, then the ratio. Prepare first, here: bash bench/gpu/prepare.sh; carry
# .gpu, .gl and dist.
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-$(mktemp -d)}
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json \
  __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json XDG_RUNTIME_DIR="$(mktemp -d)"
xz -dc .gpu/node.xz > /tmp/node && chmod +x /tmp/node
mkdir -p node_modules && tar -xJf .gpu/modules.tar.xz -C node_modules
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/gpu.txt"
PYTHONUNBUFFERED=1 timeout 200 python3 bench/gpu/torch_reference.py | tee "$out/torch.json"
timeout 300 /tmp/node dist/bench/gpu/tfjs-gpu.js | tee "$out/tfjs.json"
python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
t = json.load(open(f"{out}/torch.json")); j = json.load(open(f"{out}/tfjs.json"))
r = j["trainImagesPerSecond"] / t["trainImagesPerSecondFp32"]
print(f"VGG-like train step, batch 500: tfjs-webgpu {j['trainImagesPerSecond']:.0f} img/s, PyTorch fp32 {t['trainImagesPerSecondFp32']:.0f} img/s (TF32 {t['trainImagesPerSecondTf32']:.0f}); ratio tfjs/PyTorch fp32 = {r:.4f}")
print(f"HVPs/s (VGG-like, batch 100, webgpu): {j['hvpsPerSecondBatch100']:.2f}")
print(f"HVP vs finite differences, full width, smooth twins: {j['hvpVsFiniteDifferences']}")
print(f"HVP webgpu vs cpu (vgg16-bn:8, batch 4): {j['hvpWebgpuVsCpuRelativeDifference']:.2e}")
PY
