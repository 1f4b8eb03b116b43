"""Deploy-time settings of the components, read from the environment when the pipeline is compiled."""

import os

# The component image (Dockerfile target `component`); `make image` tags it from the git commit.
BASE_IMAGE = os.environ.get("LABELGATE_IMAGE", "ghcr.io/labelgate/labelgate-component:0.1.0")
