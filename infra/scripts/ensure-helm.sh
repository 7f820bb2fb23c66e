#!/usr/bin/env bash
# Builds, once, what the chart's tests need into .tools/bin: helm (pinned, from the Go module
# proxy) and repro-kvalidate (infra/helm/validate: rendered manifests against k8s.io/api).
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PATH:/usr/local/go/bin"
HELM_VERSION=v3.22.0
bin=$PWD/.tools/bin
mkdir -p "$bin"
# (`go install` builds carry no release tag for `helm version`: a stamp file records the version.)
if [ ! -x "$bin/helm" ] || [ "$(cat "$bin/.helm-version" 2>/dev/null)" != "$HELM_VERSION" ]; then
  echo "building helm $HELM_VERSION from the Go module proxy (once)..." >&2
  GOBIN=$bin GOFLAGS=-mod=mod go install "helm.sh/helm/v3/cmd/helm@${HELM_VERSION}"
  echo "$HELM_VERSION" > "$bin/.helm-version"
fi
src=infra/helm/validate
stamp=$(cat "$src/main.go" "$src/go.mod" "$src/go.sum" 2>/dev/null | sha256sum | cut -d' ' -f1)
if [ ! -x "$bin/repro-kvalidate" ] || [ "$(cat "$bin/.kvalidate-stamp" 2>/dev/null)" != "$stamp" ]; then
  echo "building repro-kvalidate (k8s.io/api types)..." >&2
  (cd "$src" && go build -o "$bin/repro-kvalidate" .)
  echo "$stamp" > "$bin/.kvalidate-stamp"
fi
