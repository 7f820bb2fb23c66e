#!/usr/bin/env bash
# Builds the CPU image (infra/image/Containerfile) on a machine that reaches Debian's package
# mirror and npm but no container registry: the base image that the Containerfile names
# (node:20-bookworm-slim) is assembled here instead, from Debian bookworm by debootstrap plus
# this machine's Node.js 20, imported as localhost/repro-base:node20-bookworm, and the
# Containerfile is built on it with buildah (chroot isolation: no container runtime needed).
# Usage: bash infra/image/build-local.sh [TAG]   (default localhost/repro:dev; root, Linux)
# Needs: debootstrap, buildah, podman (apt-get install debootstrap buildah podman).
set -euo pipefail
cd "$(dirname "$0")/../.."
tag=${1:-localhost/repro:dev}
base=localhost/repro-base:node20-bookworm
rootfs=.tools/image/rootfs
for tool in debootstrap buildah podman; do
  command -v "$tool" >/dev/null || { echo "build-local: $tool is missing (apt-get install debootstrap buildah podman)" >&2; exit 2; }
done
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" = 20 ] || { echo "build-local: the base image takes this machine's Node.js, which is $node_major, not 20" >&2; exit 2; }
if ! podman image exists "$base"; then
  if [ ! -x "$rootfs/usr/local/bin/node" ]; then
    rm -rf "$rootfs" && mkdir -p "$rootfs"
    debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian >/dev/null
    cp "$(readlink -f "$(command -v node)")" "$rootfs/usr/local/bin/node"
    npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
    mkdir -p "$rootfs/usr/local/lib/node_modules" && cp -a "$npm_dir" "$rootfs/usr/local/lib/node_modules/npm"
    ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
    ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  fi
  # This machine's trust roots go into the stand-in base (as an organization's base image carries
  # its own): npm inside the build reaches the registry through the same TLS setup as here.
  mkdir -p "$rootfs/etc/ssl/certs" && cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/"
  tar -C "$rootfs" -c . | podman import --quiet --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
    - "$base" >/dev/null
fi
buildah bud --quiet --isolation chroot --layers --build-arg NODE_IMAGE="$base" -f infra/image/Containerfile -t "$tag" .
echo "$tag"
