"""Which fitted candidate the label model uses: without dev labels an unsupervised rule, with dev
labels a conservative switch to a candidate that is clearly better on them."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from labelgate.labeling.model.candidate import (
    DEV_NAIVE_BAYES,
    MATRIX_COMPLETION,
    FittedCandidate,
    argmax_by_prior,
)
from labelgate.labeling.model.naive_bayes import fit_naive_bayes

DEV_MARGIN = 1.0  # standard deviations (sign test) a candidate must beat the default by on dev labels

Proba = Callable[[FittedCandidate, np.ndarray], np.ndarray]


def unsupervised_choice(candidates: dict[str, FittedCandidate]) -> str:
    """Without dev labels: the moment fit (Snorkel's method), with rows that have no vote scored by the
    abstain-modelling EM. On synthetic, conditionally independent LFs the EM alone is often better,
    but on real LFs (correlated keywords) it was worse even where it agreed with the moments on
    nine rows in ten (bench/labeling.py and tests/labeling show both), so the moments stay."""
    return MATRIX_COMPLETION


def dev_choice(
    candidates: dict[str, FittedCandidate], L_d: np.ndarray, y_d: np.ndarray, k: int, default: str,
    proba: Proba, seed: int,
) -> tuple[str, dict[str, float], FittedCandidate]:
    """Leave the unsupervised choice only for a candidate that labels the dev rows better by a clear
    margin: in a paired comparison its extra right answers must exceed its extra wrong ones by
    DEV_MARGIN standard deviations (a small dev set otherwise picks whichever model got lucky).
    Returns the choice, each candidate's dev accuracy and the naive Bayes candidate fitted on all dev rows."""
    right = {n: argmax_by_prior(proba(c, L_d), c.log_prior) == y_d for n, c in candidates.items()}
    # The supervised candidate learns from the dev labels, so it is scored on held-out folds of them.
    right[DEV_NAIVE_BAYES] = cross_validated_naive_bayes(L_d, y_d, k, proba, seed)
    scores = {n: float(r.mean()) for n, r in right.items()}
    choice = default
    for name in sorted(right, key=lambda n: -scores[n]):
        wins = int((right[name] & ~right[default]).sum())
        losses = int((right[default] & ~right[name]).sum())
        if wins - losses > DEV_MARGIN * math.sqrt(wins + losses) and scores[name] > scores[choice]:
            choice = name
    return choice, scores, fit_naive_bayes(L_d, y_d, k)


def cross_validated_naive_bayes(
    L_d: np.ndarray, y_d: np.ndarray, k: int, proba: Proba, seed: int, folds: int = 5
) -> np.ndarray:
    """Whether naive Bayes fitted on the other folds labels each dev row right (seeded folds)."""
    order = np.random.default_rng(seed).permutation(len(y_d))
    right = np.zeros(len(y_d), dtype=bool)
    for fold in range(folds):
        held = order[fold::folds]
        if len(held) == 0:
            continue
        rest = np.setdiff1d(order, held)
        model = fit_naive_bayes(L_d[rest], y_d[rest], k)
        right[held] = argmax_by_prior(proba(model, L_d[held]), model.log_prior) == y_d[held]
    return right
