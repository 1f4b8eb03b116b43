"""Naive Bayes over LF outputs learned from gold (dev) labels: the supervised candidate."""

from __future__ import annotations

import numpy as np

from labelgate.labeling.model.candidate import DEV_NAIVE_BAYES, FittedCandidate


def fit_naive_bayes(L: np.ndarray, y: np.ndarray, k: int, pseudo: float = 1.0) -> FittedCandidate:
    """``P(vote_j | y)`` (abstain included) and the prior counted on labelled rows, Laplace-smoothed."""
    m = L.shape[1]
    counts = np.full((m, k + 1, k), pseudo)
    for c in range(-1, k):
        hits = (L == c).astype(np.float64)  # n x m
        for cls in range(k):
            counts[:, c + 1, cls] += hits[y == cls].sum(axis=0)
    log_vote = np.log(counts / counts.sum(axis=1, keepdims=True))
    prior = np.bincount(y, minlength=k).astype(np.float64) + pseudo
    log_prior = np.log(prior / prior.sum())
    return FittedCandidate(DEV_NAIVE_BAYES, log_vote, log_prior, 0)
