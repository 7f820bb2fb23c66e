#!/usr/bin/env bash
# Prepare, on this machine, what bench/gpu/run.sh needs on the lent GPU machine (no Node.js and
# no network there): this Node binary, the GL vendor-neutral libraries Vulkan needs, and only the
# node_modules files the GPU benchmark loads. Everything goes to ignored folders .gpu/ and .gl/.
set -euo pipefail
cd "$(dirname "$0")/../.."
source infra/scripts/ensure-deps.sh
mkdir -p .gpu .gl
[ -s .gpu/node.xz ] || xz -T2 -c "$(command -v node)" > .gpu/node.xz
if ! ls .gl/*.deb >/dev/null 2>&1; then
  lists=$(mktemp -d); mkdir -p "$lists/partial"
  o="-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=$lists"
  apt-get $o update >/dev/null && (cd .gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
fi
# The module files the benchmark actually loads (traced), plus Dawn's Linux binary.
node -e "
const Module = require('module'); const seen = new Set();
const orig = Module._resolveFilename;
Module._resolveFilename = function (...a) { const f = orig.apply(this, a); if (f.includes('node_modules')) seen.add(f); return f; };
require('@tensorflow/tfjs'); require('@tensorflow/tfjs-backend-webgpu'); require('webgpu/package.json');
for (const p of ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-webgpu', '@tensorflow/tfjs-backend-cpu', '@tensorflow/tfjs-core']) require(p + '/package.json');
const path = require('path');
const out = new Set();
for (const f of seen) {
  const rel = path.relative('node_modules', f);
  out.add(rel);
  // and the package.json of the package holding it (Node reads 'main' and 'type' from it)
  const parts = rel.split(path.sep);
  const pkg = path.join(...parts.slice(0, parts[0].startsWith('@') ? 2 : 1));
  out.add(path.join(pkg, 'package.json'));
  // small packages go whole (nested package.json files set module types, e.g. long/umd)
  if (!pkg.startsWith('@tensorflow') && pkg !== 'webgpu') out.add(pkg);
}
for (const f of out) console.log(f);
" > .gpu/files.txt
echo webgpu/index.js >> .gpu/files.txt
echo webgpu/package.json >> .gpu/files.txt
echo webgpu/dist/linux-x64/dawn.node >> .gpu/files.txt
ls node_modules/webgpu/dist/linux-x64/ | grep -v dawn.node | sed 's|^|webgpu/dist/linux-x64/|' >> .gpu/files.txt || true
(cd node_modules && sort -u ../.gpu/files.txt | tar -cJf ../.gpu/modules.tar.xz -T -)
du -sh .gpu/* .gl dist
