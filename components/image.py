"""Deploy-time settings of the components, read from the environment when the pipeline is compiled."""

import os

# The component image (Dockerfile target `component`); `make image` tags it from the git commit.
BASE_IMAGE = os.environ.get("LABELGATE_IMAGE", "ghcr.io/labelgate/labelgate-component:0.1.0")

# The pipeline's defaults in the compiled YAML, for a run started from the KFP UI or by `labelgate trigger`
# without parameters: KFP's object store (manifests/kind) and the registry service of manifests/base.
# `labelgate run` passes every parameter itself, so local runs never see these.
CLUSTER_DATA_URI = os.environ.get("LABELGATE_DATA_URI", "s3://mlpipeline/labelgate/data/youtube-spam")
CLUSTER_REGISTRY_URI = os.environ.get("LABELGATE_REGISTRY_URI", "http://labelgate-mlflow:5000")
# The monitoring pipeline's default prediction log: the serving pods' --prediction-log in the object store
# (the Makefile's KFP_PREDICTION_LOG, which push hands the InferenceService).
CLUSTER_LOG_URI = os.environ.get("LABELGATE_LOG_URI", "s3://mlpipeline/labelgate/predictions/youtube-spam")
