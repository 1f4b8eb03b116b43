"""Dependency between LFs: LFs that fire on nearly the same rows and vote the same way there (copies,
shared keyword lists) are one piece of evidence, not several. Generative models that assume the LFs
independent given the class count such a group once by giving each member the weight 1/size."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

MIN_JACCARD = 0.5  # share of the rows either LF fires on that both fire on
MIN_AGREEMENT = 0.95  # share of those shared rows where they vote the same class
MIN_SHARED = 5.0  # rows (weighted) two LFs must share before they can be called dependent


def lf_groups(gram: np.ndarray, m: int, k: int) -> np.ndarray:
    """A group id per LF (connected components of the 'fires on the same rows, votes alike' graph), from
    the weighted vote overlap matrix ``gram`` (``m*k x m*k``, FitData.gram)."""
    blocks = gram.reshape(m, k, m, k)
    shared = blocks.sum(axis=(1, 3))  # rows both LFs vote on
    same = np.einsum("acbc->ab", blocks)  # rows both vote on, with the same class
    own = np.diag(shared)
    union = own[:, None] + own[None, :] - shared
    with np.errstate(divide="ignore", invalid="ignore"):
        jaccard = np.where(union > 0, shared / union, 0.0)
        agreement = np.where(shared > 0, same / shared, 0.0)
    linked = (jaccard >= MIN_JACCARD) & (agreement >= MIN_AGREEMENT) & (shared >= MIN_SHARED)
    np.fill_diagonal(linked, False)
    _, labels = connected_components(sp.csr_matrix(linked), directed=False)
    return labels
