#!/usr/bin/env bash
# Usage: scripts/require_tools.sh TARGET TOOL...
# Stops `make TARGET` with one readable message when a tool it needs is missing (or, for docker, when
# the client is there but no engine answers). Nothing has been changed when it fails.
set -uo pipefail
target="$1"; shift

hint() {
  case "$1" in
    kind) echo "https://kind.sigs.k8s.io/docs/user/quick-start/#installation" ;;
    kubectl) echo "https://kubernetes.io/docs/tasks/tools/#kubectl" ;;
    docker) echo "https://docs.docker.com/engine/install/" ;;
    *) echo "install it and put it on PATH" ;;
  esac
}

missing=()
for tool in "$@"; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ((${#missing[@]})); then
  {
    list=$(printf '%s, ' "${missing[@]}")
    echo "make $target needs ${list%, }, not found on PATH. Install:"
    for tool in "${missing[@]}"; do printf '  %-8s %s\n' "$tool" "$(hint "$tool")"; done
    echo "Nothing was changed. Without a cluster, \`make run\` runs the same pipeline on this machine."
  } >&2
  exit 2
fi
for tool in "$@"; do
  if [[ "$tool" == docker ]] && ! timeout 30 docker info >/dev/null 2>&1; then
    {
      echo "make $target needs a running Docker engine: the docker client is installed but \`docker info\` gets no answer."
      echo "  Start Docker (or set DOCKER_HOST to a reachable engine) and run \`make $target\` again. Nothing was changed."
    } >&2
    exit 2
  fi
done
