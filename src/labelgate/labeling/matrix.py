"""The label matrix: ``n x m`` votes, -1 = abstain. Checks, compact storage and conversions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp

from labelgate.errors import LabelingError

ABSTAIN = -1


def check_label_matrix(L: np.ndarray, cardinality: int | None = None, min_lfs: int = 1) -> np.ndarray:
    """Validate a label matrix (any integer array, -1 = abstain) and return it as int8 or int16."""
    L = np.asarray(L)
    if L.ndim != 2:
        raise LabelingError(f"the label matrix must be 2-D (rows x LFs), got shape {L.shape}")
    if L.shape[0] == 0:
        raise LabelingError("the label matrix has no rows")
    if L.shape[1] < min_lfs:
        raise LabelingError(f"the label model needs at least {min_lfs} labeling function(s); the matrix has {L.shape[1]}")
    if L.dtype.kind == "f":
        if not np.all(np.isfinite(L)) or np.any(L != np.round(L)):
            raise LabelingError("the label matrix must hold integer votes (-1 = abstain), found non-integers")
    elif L.dtype.kind not in "iu":
        raise LabelingError(f"the label matrix must hold integers, got dtype {L.dtype}")
    low, high = int(L.min()), int(L.max())
    if low < ABSTAIN:
        row, col = (int(v[0]) for v in np.nonzero(L < ABSTAIN))
        raise LabelingError(f"label matrix value {L[row, col]} at row {row}, LF {col} is below -1 (abstain)")
    if cardinality is not None and high >= cardinality:
        row, col = (int(v[0]) for v in np.nonzero(L >= cardinality))
        raise LabelingError(
            f"label matrix value {L[row, col]} at row {row}, LF {col} is outside 0..{cardinality - 1} "
            f"for cardinality {cardinality}"
        )
    if high == ABSTAIN:
        raise LabelingError("every labeling function abstains on every row: the label matrix holds no votes")
    return L.astype(np.int8 if high < 127 else np.int16, copy=False)


def infer_cardinality(L: np.ndarray) -> int:
    """The number of classes implied by the largest vote (at least 2)."""
    return max(2, int(np.asarray(L).max()) + 1)


def to_sparse(L: np.ndarray) -> sp.csr_matrix:
    """CSR form storing ``vote + 1`` (so abstains are the implicit zeros): compact when coverage is low."""
    L = np.asarray(L)
    return sp.csr_matrix((L + 1).astype(np.int8))


def from_sparse(S: sp.spmatrix) -> np.ndarray:
    """Invert ``to_sparse``."""
    return (S.toarray().astype(np.int16) - 1).astype(np.int8)


def save_label_matrix(path: str | Path, L: np.ndarray) -> None:
    """Write ``L`` as an int8 ``.npy`` file (exactly at ``path``, no suffix added)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        np.save(fh, np.asarray(L, dtype=np.int8))


def load_label_matrix(path: str | Path) -> np.ndarray:
    """Read a label matrix written by ``save_label_matrix``."""
    return np.load(path, allow_pickle=False)
