#!/usr/bin/env bash
# Print the GHCR image names of this commit as KEY=VALUE lines for $GITHUB_ENV:
#   COMPONENT_IMAGE=ghcr.io/<owner>/labelgate-component:<sha>   SERVING_IMAGE=ghcr.io/<owner>/labelgate-serving:<sha>
# GHCR refuses upper-case repository names, and `github.repository_owner` keeps the owner's case
# (`MyOrg`): the owner is lower-cased here. Reads GITHUB_REPOSITORY_OWNER and GITHUB_SHA (Actions sets both).
set -euo pipefail
owner=${GITHUB_REPOSITORY_OWNER:?set by GitHub Actions}
sha=${GITHUB_SHA:?set by GitHub Actions}
registry=${IMAGE_REGISTRY_HOST:-ghcr.io}
owner=${owner,,}
echo "COMPONENT_IMAGE=$registry/$owner/labelgate-component:$sha"
echo "SERVING_IMAGE=$registry/$owner/labelgate-serving:$sha"
