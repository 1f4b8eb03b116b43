"""Programmatic labeling: labeling functions, the chunked applier, LF analysis. Label models live in
``labelgate.labeling.model`` (PyTorch)."""

from labelgate.labeling.analysis import lf_summary
from labelgate.labeling.applier import (
    AppliedLabels,
    LFApplier,
    PandasLFApplier,
    merge_label_matrices,
    shard_bounds,
)
from labelgate.labeling.lf import (
    ABSTAIN,
    LabelingFunction,
    batch_labeling_function,
    keyword_lf,
    labeling_function,
    predicate_lf,
    preprocessor,
    regex_lf,
)
from labelgate.labeling.loader import load_lfs

__all__ = [
    "ABSTAIN", "AppliedLabels", "LFApplier", "LabelingFunction", "PandasLFApplier", "batch_labeling_function",
    "keyword_lf", "labeling_function", "lf_summary", "load_lfs", "merge_label_matrices", "predicate_lf",
    "preprocessor", "regex_lf", "shard_bounds",
]
