#!/usr/bin/env bash
# Build a local Python 3.11 base image (Debian bookworm, minbase) for when the Dockerfile's default base
# (python:3.11-slim on Docker Hub) cannot be pulled: debootstrap a root filesystem with Debian's python3
# (3.11 in bookworm) and import it. Needs root, debootstrap and a reachable Debian mirror.
#   scripts/base_image.sh [TAG]      (default labelgate-python:3.11-bookworm; kept when it exists)
set -euo pipefail
TAG=${1:-labelgate-python:3.11-bookworm}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
if docker image inspect "$TAG" >/dev/null 2>&1; then
    echo "base image $TAG: present"
    exit 0
fi
[ "$(id -u)" = 0 ] || { echo "base image: debootstrap needs root" >&2; exit 1; }
command -v debootstrap >/dev/null 2>&1 || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap; } >/dev/null
root=$(mktemp -d /tmp/labelgate-rootfs.XXXXXX)
trap 'rm -rf "$root"' EXIT
echo "base image $TAG: debootstrap bookworm (minbase) into $root ..."
debootstrap --variant=minbase --include=python3,python3-venv,python-is-python3,ca-certificates \
    bookworm "$root" "$MIRROR" >"$root.log" 2>&1 || { tail -n 20 "$root.log" >&2; exit 1; }
rm -f "$root.log"
# Slim it like the official images: no apt lists, caches, docs or man pages.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
    "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/locale/*
tar -C "$root" -c . | docker import \
    --change 'ENV LANG=C.UTF-8' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["python3"]' \
    - "$TAG" >/dev/null
docker run --rm "$TAG" python -c 'import sys, venv; assert sys.version_info[:2] == (3, 11), sys.version'
echo "base image $TAG: built ($(docker image inspect "$TAG" --format '{{.Size}}' | awk '{printf "%.0f MB", $1/1e6}'))"
