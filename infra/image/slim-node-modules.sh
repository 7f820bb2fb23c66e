#!/usr/bin/env bash
# Deletes from a production node_modules (after `npm prune --omit=dev`) what Node.js never loads on
# this machine's platform, for the images' runtime stage; checks that what the worker requires still
# loads. In the CPU image's build of 2026-12-06, 655 MB before and 237 MB after (du -sm); the bulk:
#   source maps       ~210 MB  (tfjs ships eight builds of each package, each with its map); Temporal's are kept: the
#                               worker's workflow bundler inlines them into workflow stack traces
#                               (and ignores a missing map: webpack's ignoreWarnings)
#   other platforms   ~120 MB  @temporalio/core-bridge's prebuilt index.node for macOS, Windows, the
#                               other Linux arch; with its Rust sources (sdk-core, src)
#   browser bundles    ~40 MB  @tensorflow/*/dist: min, es2017, fesm, UMD and miniprogram builds; Node
#                               requires each package's `main`, the .node.js bundle
#   type declarations  ~23 MB  *.d.ts: for the compiler only
# A short explicit list, not a pruning tool (node-prune, modclean): theirs are generic globs
# (test/, docs/, assets/ directories, *.ts) that can delete what a package loads; these four are
# the bulk, and the check below loads what the worker loads.
# Usage: bash infra/image/slim-node-modules.sh [NODE_MODULES]   (default ./node_modules)
set -euo pipefail
nm=${1:-node_modules}
[ -d "$nm/@temporalio/core-bridge" ] || { echo "slim-node-modules: $nm is not this project's node_modules" >&2; exit 2; }
before=$(du -sm "$nm" | cut -f1)

find "$nm" -type f -name '*.map' -not -path "$nm/@temporalio/*" -delete
find "$nm" -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' \) -delete

bridge=$nm/@temporalio/core-bridge
target=$(node -p "require('./$bridge/common.js').getPrebuiltTargetName()")
[ -f "$bridge/releases/$target/index.node" ] || { echo "slim-node-modules: no core-bridge build for $target" >&2; exit 1; }
find "$bridge/releases" -mindepth 1 -maxdepth 1 -not -name "$target" -exec rm -rf {} +
rm -rf "$bridge/sdk-core" "$bridge/src" "$bridge/bridge-macros" "$bridge"/Cargo.*

for dist in "$nm"/@tensorflow/*/dist; do
  rm -rf "$dist/miniprogram"
  find "$dist" -maxdepth 1 -type f \( -name '*.min.js' -o -name '*.es2017.js' -o -name '*.fesm.js' \) -delete
  # The UMD bundle (tf-core.js) beside the Node one (tf-core.node.js).
  for node in "$dist"/*.node.js; do
    [ -f "$node" ] && rm -f "${node%.node.js}.js"
  done
done

# What the worker and the CLI load: Temporal's native bridge and the tfjs backends (src/engine).
(cd "$nm/.." && node -e "
  require('@temporalio/core-bridge');
  for (const p of ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-cpu', '@tensorflow/tfjs-backend-wasm']) require(p);
")
echo "slim-node-modules: $nm $before MB -> $(du -sm "$nm" | cut -f1) MB" >&2
