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
CONTRADICTION_Z = 3.0  # standard errors an overlap must sit on the wrong side of independence
CONTRADICTION_SHARE = 0.25  # and how far from the independent rate, as a share of it


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


def contradicting_overlaps(gram: np.ndarray, total: float, m: int, k: int, z_min: float = CONTRADICTION_Z,
                           min_change: float = CONTRADICTION_SHARE) -> np.ndarray:
    """Which vote overlaps (``m*k x m*k``, True = leave out of a moment fit) contradict conditional
    independence itself, for two classes. If two LFs are independent given the class and each votes a
    class more often when the row is of it, votes for the same class co-occur more often than
    independence would make them (covariance ``p(1-p)(a1-a0)(b1-b0)`` > 0) and votes for different
    classes less often (< 0). With three classes or more the signs are not fixed (two LFs of different
    classes that both fire on a third covary positively), so nothing is left out there. An overlap that
    is significantly on the wrong side (``z_min`` standard errors, and off the independent rate by at
    least ``min_change`` of it) comes from something the class does not explain: two spam rules that
    match different kinds of spam and so rarely fire together, or a "short comment" ham rule that fires
    on bare links. Fitted, such a moment drags an accurate LF to chance; leaving it out, as Snorkel
    does for declared dependencies, lets the LF's other overlaps speak."""
    d = m * k
    if total <= 0 or k != 2:
        return np.zeros((d, d), dtype=bool)
    joint = gram / total
    rate = np.diag(gram) / total
    expected = rate[:, None] * rate[None, :]
    se = np.sqrt(np.maximum(expected * (1 - expected), 1e-300) / total)
    z = (joint - expected) / se
    big = np.abs(joint - expected) >= min_change * expected
    index = np.arange(d)
    same_class = (index % k)[:, None] == (index % k)[None, :]
    same_lf = (index // k)[:, None] == (index // k)[None, :]
    wrong_side = np.where(same_class, z < -z_min, z > z_min)
    # An LF that votes for two classes or more can be worse than chance, and then every one of its
    # overlaps is on the wrong side: that is evidence the moments read (moments.worse_than_chance), not a
    # dependency. An LF that votes one class only is never read as worse than chance.
    voted = (rate > 0).reshape(m, k).sum(axis=1)
    one_class = np.repeat(voted <= 1, k)
    return wrong_side & big & ~same_lf & (expected > 0) & one_class[:, None] & one_class[None, :]


def lf_pairs(excluded: np.ndarray, k: int) -> list[tuple[int, int]]:
    """The LF pairs (``i < j``) with at least one overlap in ``excluded`` (``m*k x m*k``)."""
    ii, jj = np.nonzero(excluded)
    return sorted({(int(i) // k, int(j) // k) for i, j in zip(ii, jj, strict=True) if i // k < j // k})
