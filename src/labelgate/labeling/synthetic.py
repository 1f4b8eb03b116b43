"""Synthetic weak supervision with known LF accuracies: for tests and benchmarks of label models."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class SyntheticVotes:
    """Gold labels ``y``, votes ``L`` (-1 = abstain), and each LF's true accuracy when it votes."""

    L: np.ndarray
    y: np.ndarray
    accuracies: np.ndarray


def make_votes(
    n: int,
    m: int,
    k: int = 2,
    accuracy: tuple[float, float] = (0.55, 0.9),
    coverage: tuple[float, float] = (0.05, 0.5),
    class_balance: np.ndarray | None = None,
    unipolar: float = 0.0,
    copies: int = 0,
    seed: int = 0,
) -> SyntheticVotes:
    """Draw ``n`` rows of ``m`` conditionally independent LFs with accuracies and coverages drawn
    uniformly from the given ranges; ``unipolar`` is the share of LFs that only ever vote one class
    (as keyword LFs do); ``copies`` extra LFs duplicate earlier ones with 10% of their votes redrawn
    (correlated LFs)."""
    rng = np.random.default_rng(seed)
    balance = np.full(k, 1.0 / k) if class_balance is None else np.asarray(class_balance, dtype=float)
    y = rng.choice(k, size=n, p=balance / balance.sum())
    base = m - copies
    acc = rng.uniform(*accuracy, size=base)
    cov = rng.uniform(*coverage, size=base)
    poles = np.where(rng.random(base) < unipolar, rng.integers(0, k, size=base), -1)
    L = np.full((n, m), -1, dtype=np.int8)
    for j in range(base):
        if poles[j] >= 0:
            # Votes its class c when the row is c (prob. cov) or, rarely, when it is not: precision = acc.
            c = poles[j]
            hit = (y == c) & (rng.random(n) < cov[j])
            rate_c = cov[j] * balance[c] / balance.sum()
            false_rate = rate_c * (1 - acc[j]) / acc[j] / max(1e-9, 1 - balance[c] / balance.sum())
            false = (y != c) & (rng.random(n) < min(1.0, false_rate))
            L[hit | false, j] = c
            continue
        votes = rng.random(n) < cov[j]
        right = rng.random(n) < acc[j]
        wrong = (y + rng.integers(1, k, size=n)) % k
        L[votes, j] = np.where(right, y, wrong)[votes]
    accs = list(acc)
    for c in range(copies):
        src = c % base
        col = L[:, src].copy()
        redraw = rng.random(n) < 0.1
        col[redraw] = -1
        L[:, base + c] = col
        accs.append(acc[src])
    return SyntheticVotes(L=L, y=y, accuracies=np.asarray(accs))
