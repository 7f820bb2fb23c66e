#!/usr/bin/env bash
# Builds the named server binaries (infra/stack/tools.json: temporal, minio, ...) into
# .tools/bin/ with `go install` from the Go module proxy, one after the other, skipping any
# already there or on PATH. The npm scripts run it in the background on a first start while
# node modules install and the addon builds; the TypeScript side (infra/stack/tools.ts) then
# finds the binaries. Exit status: non-zero if a build failed (its error on stderr).
set -uo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PATH:/usr/local/go/bin"
mkdir -p .tools/bin
status=0
for name in "$@"; do
  if command -v "$name" >/dev/null 2>&1 || [ -x ".tools/bin/$name" ]; then continue; fi
  spec=$(node -e "const t=require('./infra/stack/tools.json')['$name']; console.log(t.module + '@' + t.version)")
  if ! command -v go >/dev/null 2>&1; then
    echo "$name: not on PATH and Go is not installed to build it; install Go (https://go.dev/dl)" >&2
    exit 1
  fi
  gobin=$(mktemp -d ".tools/bin/.build-$name-XXXXXX")
  started=$(date +%s)
  if GOBIN="$PWD/$gobin" CGO_ENABLED=0 go install "$spec" 2> "$gobin.log"; then
    mv "$gobin/$(basename "${spec%@*}")" ".tools/bin/$name"
    echo "built $name in $(( $(date +%s) - started )) s" >&2
  else
    echo "building $name ($spec) failed: $(tail -n 3 "$gobin.log" | tr '\n' ' ')" >&2
    status=1
  fi
  rm -rf "$gobin" "$gobin.log"
done
exit $status
