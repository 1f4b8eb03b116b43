"""labelgate: weak supervision to a served model, as one Kubeflow pipeline.

The library is plain Python (no KFP import): each stage lives in its own subpackage
(`ingest`, `labeling`, `validation`, `training`, `evaluation`, `registry`, `serving`).
"""

__version__ = "0.1.0"
