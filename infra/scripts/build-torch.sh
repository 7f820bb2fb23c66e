#!/usr/bin/env bash
# Builds the `torch` tfjs backend's native addon (src/engine/torch/*.cc: the tfjs kernels and the
# native programs) into .tools/torch/,
# without downloads: Node-API headers from npm (node-api-headers, node-addon-api), the system
# C++ compiler, and libtorch from wherever this machine has it, in this order:
#   $LIBTORCH            a directory with include/ and lib/ (a libtorch zip, or torch's own)
#   python3's torch      an installed PyTorch (CUDA builds included): its include/ and lib/
#   Debian libtorch-dev  /usr/include/ATen and the system's libtorch (CPU)
# Rebuilds only when the source, the compiler flags or libtorch changed. Exits 0 with a reason
# on stderr when no libtorch is found: the other backends keep working.
# With --install, a root machine with apt and no libtorch gets Debian's libtorch-dev first (and
# OpenBLAS: Debian's libtorch calls the reference BLAS otherwise, 7x slower on small matmuls).
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "${1:-}" = --install ] && [ -z "${LIBTORCH:-}" ] && [ ! -f /usr/include/ATen/ATen.h ] \
  && ! python3 -c 'import torch' 2>/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing libtorch-dev and OpenBLAS (Debian packages) for the torch backend..." >&2
  { apt-get update -qq && apt-get install -y -qq libtorch-dev libopenblas0-openmp g++; } >/dev/null 2>&1 \
    || echo "could not install libtorch-dev; continuing without the torch backend" >&2
fi
out=.tools/torch
srcs=(src/engine/torch/addon.cc src/engine/torch/program.cc src/engine/torch/dense.cc src/engine/torch/conv.cc)
# The addon's build identity (in the backend label and the code version): its sources' SHA-256.
build=$(cat "${srcs[@]}" src/engine/torch/store.h src/engine/torch/program.h | sha256sum | cut -c1-16)
include=() libdir='' source=''
if [ -n "${LIBTORCH:-}" ]; then
  include=("$LIBTORCH/include" "$LIBTORCH/include/torch/csrc/api/include")
  libdir="$LIBTORCH/lib" source="LIBTORCH=$LIBTORCH"
elif dir=$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))' 2>/dev/null) \
  && [ -d "$dir/include" ]; then
  include=("$dir/include" "$dir/include/torch/csrc/api/include") libdir="$dir/lib"
  source="python3 torch at $dir"
elif [ -f /usr/include/ATen/ATen.h ]; then
  include=(/usr/include /usr/include/torch/csrc/api/include) libdir=/usr/lib/x86_64-linux-gnu
  source='Debian libtorch-dev'
else
  echo "torch backend not built: no libtorch found" \
    "(apt-get install libtorch-dev, pip install torch, or set LIBTORCH)" >&2
  exit 0
fi
abi=1
if [[ "$source" == python3* ]]; then
  abi=$(python3 -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')
fi
libs=(-ltorch -ltorch_cpu -lc10)
[ -e "$libdir/libtorch_cuda.so" ] && libs+=(-ltorch_cuda)
[ -e "$libdir/libc10_cuda.so" ] && libs+=(-lc10_cuda)
# -ffp-contract=off: no fused multiply-adds, so the native SGD step rounds as src/optim/sgd.ts does.
flags=(-O2 -ffp-contract=off -std=c++17 -fPIC -shared -D_GLIBCXX_USE_CXX11_ABI="$abi" -DNAPI_VERSION=8 -DNODE_ADDON_API_DISABLE_DEPRECATED
  -DREPRO_ADDON_BUILD="\"$build\""
  -DNAPI_CPP_EXCEPTIONS -Inode_modules/node-api-headers/include -Inode_modules/node-addon-api)
for i in "${include[@]}"; do flags+=("-I$i"); done
link=(-L"$libdir" -Wl,-rpath,"$libdir" -Wl,--no-as-needed "${libs[@]}" -Wl,--as-needed)
stamp="$build ${flags[*]} ${link[*]}"
if [ -f "$out/repro_torch.node" ] && [ "$(cat "$out/stamp" 2>/dev/null)" = "$stamp" ]; then exit 0; fi
mkdir -p "$out"
echo "building the torch backend addon against $source..." >&2
tmp=$(mktemp "$out/build.XXXXXX")
objs=$(mktemp -d "$out/objs.XXXXXX")
# One compiler per source, side by side (libtorch's headers make each take 10-20 s); C++17 builds
# against libtorch 1.13 through 2.x, and a libtorch whose headers want C++20 gets a second try.
compile() {
  "${CXX:-g++}" "${flags[@]}" -c "$1" -o "$2" 2> "$2.log" \
    || "${CXX:-g++}" "${flags[@]}" -std=c++20 -c "$1" -o "$2" 2>> "$2.log"
}
pids=()
for s in "${srcs[@]}"; do
  compile "$s" "$objs/$(basename "$s" .cc).o" &
  pids+=($!)
done
ok=1
for p in "${pids[@]}"; do wait "$p" || ok=0; done
cat "$objs"/*.log > "$out/build.log" 2>/dev/null || true
if [ "$ok" != 1 ] || ! "${CXX:-g++}" "${flags[@]}" "$objs"/*.o -o "$tmp" "${link[@]}" 2>> "$out/build.log"; then
  rm -rf "$tmp" "$objs"
  echo "torch backend not built: the compiler failed against $source (see $out/build.log)" >&2
  exit 1
fi
rm -rf "$objs"
chmod 0755 "$tmp" # mktemp made it 0600: another user (an image's uid 10001) could not load it
mv "$tmp" "$out/repro_torch.node"
printf '%s' "$stamp" > "$out/stamp"
printf '{"libtorch": "%s", "build": "%s", "built": "%s"}\n' "$source" "$build" "$(date -u +%FT%TZ)" \
  > "$out/build-info.json"
echo "torch backend addon: $out/repro_torch.node" >&2
