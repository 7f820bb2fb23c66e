#!/usr/bin/env bash
# The shared libraries a native binary loads, gathered for an image's runtime stage: the CPU image's
# build stage installs Debian's libtorch-dev (headers, and libtorch1.13 with every package it
# depends on: OpenCV, FFmpeg, GDAL, Qt, Mesa with LLVM; 1.17 GB when the runtime stage installed
# libtorch1.13 itself), builds the torch addon, and hands the runtime stage only the libraries `ldd`
# resolves for the addon that the base image does not already hold byte for byte (512 MB, 2026-12-06).
#   bash infra/image/runtime-libs.sh --record LIST         before apt-get install: the base's libraries
#   bash infra/image/runtime-libs.sh LIST DEST BINARY...   after the build: BINARY's libraries not in
#                                                          LIST, copied under DEST at the paths the
#                                                          loader resolved (symlinks followed; /lib as
#                                                          /usr/lib, bookworm's merged /usr), and
#                                                          a manifest on stdout: path, Debian package
#                                                          and version, for audits and scanners (dpkg's
#                                                          database in the runtime stage does not list
#                                                          them)
# The runtime stage copies DEST to / and runs ldconfig.
set -euo pipefail
if [ "${1:-}" = --record ]; then
  libdirs=()
  for d in /usr/lib /usr/lib64; do [ -d "$d" ] && libdirs+=("$d"); done
  find "${libdirs[@]}" -type f -name '*.so*' -exec sha256sum {} + | sort > "$2"
  exit 0
fi
[ $# -ge 3 ] || { echo "usage: runtime-libs.sh --record LIST | runtime-libs.sh LIST DEST BINARY..." >&2; exit 2; }
list=$1 dest=$2
shift 2
missing=$(ldd "$@" | grep 'not found' || true)
[ -z "$missing" ] || { echo "runtime-libs: unresolved libraries: $missing" >&2; exit 1; }
# Each resolved path once (the loader's own, ld-linux, and the vDSO have no "=> /path").
for lib in $(ldd "$@" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | sort -u); do
  real=$(readlink -f "$lib")
  if grep -qxF "$(sha256sum "$real")" "$list"; then continue; fi
  at=$lib
  [[ "$at" == /lib/* && "$(readlink /lib)" == usr/lib ]] && at=/usr$at
  install -D -m 0644 "$real" "$dest$at"
  # Which package shipped it: dpkg knows bookworm's libraries by their /lib or /usr/lib path.
  owner=$(dpkg -S "$real" 2>/dev/null || dpkg -S "${real/#\/usr\/lib\//\/lib\/}" 2>/dev/null || true)
  pkg=${owner%%:*}
  version=$([ -n "$pkg" ] && dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null || true)
  echo "$at ${pkg:-unknown} ${version:-unknown}"
done
