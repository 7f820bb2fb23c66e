#!/usr/bin/env bash
# `npm start`: the main job on the embedded default. Installs what is missing, builds, starts the
# local Temporal dev server and S3 server (built once from the Go module proxy), a worker, and
# runs the default reproduction suite. Extra arguments go to `repro reproduce`.
set -euo pipefail
cd "$(dirname "$0")/../.."
SERVERS="temporal minio" source infra/scripts/ensure-deps.sh
exec node dist/infra/cli/main.js reproduce "$@"
