#!/usr/bin/env bash
# `npm test`: install what is missing, build, then run every test against a real Temporal dev
# server and a real S3 server that the harness starts (and builds once if absent).
set -euo pipefail
cd "$(dirname "$0")/../.."
SERVERS="temporal minio temporal-server temporal-sql-tool" source infra/scripts/ensure-deps.sh
node dist/test/run-tests.js "$@"
