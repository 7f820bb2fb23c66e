#!/usr/bin/env bash
# Prints an image's digest as the chart's values (image, or gpuImage with --gpu), to paste into a
# values file or to pass as one (`helm install ... -f digests.yaml`): the pods then pull
# repository@digest.
#   bash infra/image/print-digest.sh [--gpu] IMAGE              the image in this machine's storage:
#                                                               podman's digest of it (podman image
#                                                               inspect --format '{{.Digest}}')
#   bash infra/image/print-digest.sh [--gpu] IMAGE DIGESTFILE   a pushed image: the digest its push
#                                                               wrote (buildah push --digestfile FILE
#                                                               IMAGE), the registry's
# A cluster pulls from a registry, so it needs the second: a push recompresses the layers and the
# registry's manifest digest is not the local one (README, "Images").
set -euo pipefail
key=image
if [ "${1:-}" = --gpu ]; then key=gpuImage && shift; fi
[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: print-digest.sh [--gpu] IMAGE [DIGESTFILE]" >&2; exit 2; }
image=$1
if [ $# = 2 ]; then
  digest=$(tr -d '[:space:]' < "$2")
else
  digest=$(podman image inspect --format '{{.Digest}}' "$image")
fi
[[ "$digest" =~ ^sha256:[0-9a-f]{64}$ ]] || { echo "print-digest: '$digest' is not a sha256 digest" >&2; exit 1; }
# repository:tag, the tag after the last colon that follows the last slash (a registry's port is not one).
name=${image%@*}
repository=$name tag=latest
if [[ "${name##*/}" == *:* ]]; then repository=${name%:*} tag=${name##*:}; fi
printf '%s:\n  repository: %s\n  tag: "%s"\n  digest: "%s"\n' "$key" "$repository" "$tag" "$digest"
