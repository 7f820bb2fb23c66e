#!/usr/bin/env bash
# `npm run bench`: measurements printed as ratios taken side by side in one run.
set -euo pipefail
cd "$(dirname "$0")/../.."
SERVERS="temporal minio" source infra/scripts/ensure-deps.sh
# The engine section's PyTorch column: Debian's python3-torch (over the same libtorch as the torch
# backend), installed here where no Python imports torch and this is a root machine with apt.
if [ "$#" -eq 0 ] || printf '%s\n' "$@" | grep -qx engine; then
  if [ -z "${REPRO_BENCH_PYTHON:-}" ]; then
    for p in python3 /usr/bin/python3; do
      if "$p" -c 'import torch' 2>/dev/null; then export REPRO_BENCH_PYTHON="$p"; break; fi
    done
  fi
  if [ -z "${REPRO_BENCH_PYTHON:-}" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing python3-torch (Debian) for the engine bench's PyTorch column..." >&2
    { apt-get update -qq && apt-get install -y -qq python3-torch; } >/dev/null 2>&1 \
      && export REPRO_BENCH_PYTHON=/usr/bin/python3 \
      || echo "could not install python3-torch; the engine bench runs without its PyTorch column" >&2
  fi
fi
exec node dist/bench/run.js "$@"
