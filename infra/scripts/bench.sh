#!/usr/bin/env bash
# `npm run bench`: measurements printed as ratios taken side by side in one run.
set -euo pipefail
cd "$(dirname "$0")/../.."
SERVERS="temporal minio" source infra/scripts/ensure-deps.sh
exec node dist/bench/run.js "$@"
