#!/usr/bin/env bash
# Prepare, here, what bench/gpu/torch-engine.sh needs on the lent GPU machine (no Node.js, no
# network): this Node binary, the node_modules files the benchmark loads (traced), and the
# Node-API headers the addon compiles against. Carry: .gpu and dist (under 64 MiB together).
set -euo pipefail
cd "$(dirname "$0")/../.."
source infra/scripts/ensure-deps.sh
mkdir -p .gpu
[ -s .gpu/node.xz ] || xz -T2 -c "$(command -v node)" > .gpu/node.xz
node -e "
const Module = require('module'); const path = require('path'); const seen = new Set();
const orig = Module._resolveFilename;
Module._resolveFilename = function (...a) {
  const f = orig.apply(this, a); if (f.includes('node_modules')) seen.add(f); return f;
};
for (const m of ['src/engine/torch/backend', 'src/engine/torch/native', 'src/engine/backend', 'src/models/model',
  'src/hessian/hvp', 'src/hessian/probes', 'src/rng/philox', 'src/train/trainer', 'bench/gpu/vgg-like',
  'bench/gpu/tfjs-gpu']) require('./dist/' + m);
require('@tensorflow/tfjs-backend-cpu');
const out = new Set(['node-addon-api', 'node-api-headers']);
for (const f of seen) {
  const rel = path.relative('node_modules', f);
  out.add(rel);
  const parts = rel.split(path.sep);
  const pkg = path.join(...parts.slice(0, parts[0].startsWith('@') ? 2 : 1));
  out.add(path.join(pkg, 'package.json'));
  if (!pkg.startsWith('@tensorflow')) out.add(pkg);
}
for (const f of out) console.log(f);
" > .gpu/torch-files.txt
(cd node_modules && sort -u ../.gpu/torch-files.txt | tar -cJf ../.gpu/torch-modules.tar.xz -T -)
du -sh .gpu/node.xz .gpu/torch-modules.tar.xz dist
