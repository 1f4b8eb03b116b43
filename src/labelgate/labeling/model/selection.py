"""Which fitted candidate the label model uses: without dev labels an unsupervised rule, with dev
labels a conservative switch to a candidate that is clearly better on them."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from labelgate.labeling.model.candidate import (
    DAWID_SKENE_ABSTAIN,
    DEV_NAIVE_BAYES,
    MAJORITY_VOTE,
    MATRIX_COMPLETION,
    FittedCandidate,
    argmax_by_prior,
    covered_only,
    top_ties,
)
from labelgate.labeling.model.naive_bayes import fit_naive_bayes
from labelgate.labeling.model.votes import vote_counts, vote_positions

AGREEMENT_MARGIN = 0.01  # the least gap in held-out LF agreement that moves the unsupervised choice
DEV_Z = 2.5  # standard deviations (paired sign test) a candidate must beat the default by on dev labels
DEV_MIN_GAIN = 0.01  # and the share of dev rows it must gain

Proba = Callable[[FittedCandidate, np.ndarray], np.ndarray]


# Fitted by ``method="auto"``; on equal held-out agreement the earlier one is kept.
AUTO_CANDIDATES = (MATRIX_COMPLETION, MAJORITY_VOTE, DAWID_SKENE_ABSTAIN)


def unsupervised_choice(agreement: dict[str, float], n_votes: float = math.inf) -> str:
    """Without dev labels: the candidate whose predictions, with each LF left out in turn, agree most with
    that LF's votes (``held_out_lf_agreement``). The first candidate (the moments, Snorkel's method) is
    left only for one ahead by more than two standard errors of a share measured on ``n_votes`` held-out
    votes (at least AGREEMENT_MARGIN): closer than that, the gap is noise."""
    usable = [n for n in AUTO_CANDIDATES if agreement.get(n, float("nan")) == agreement.get(n, float("nan"))]
    if not usable:
        return MAJORITY_VOTE
    default = usable[0]
    best = max(usable, key=lambda n: agreement[n])
    margin = max(AGREEMENT_MARGIN, 1.0 / math.sqrt(max(n_votes, 1.0)))  # 2 * sqrt(0.25 / n)
    return best if agreement[best] > agreement[default] + margin else default


def dev_choice(
    candidates: dict[str, FittedCandidate], L_d: np.ndarray, y_d: np.ndarray, k: int, default: str,
    proba: Proba, seed: int,
) -> tuple[str, dict[str, Any], FittedCandidate]:
    """Keep the unsupervised choice unless another candidate labels the dev rows significantly better:
    in a paired comparison with the default, its extra right answers minus its extra wrong ones must
    exceed DEV_Z standard deviations (sign test) and DEV_MIN_GAIN of the rows. A small or
    uninformative dev set therefore never moves the model, and the model it moves to is better on the
    dev distribution with high confidence. The supervised naive Bayes is scored on held-out folds.
    Returns the choice, a report (accuracy and standard error per candidate, the z of each against the
    default) and naive Bayes fitted on every dev row."""
    right = {n: argmax_by_prior(proba(c, L_d), c.log_prior) == y_d for n, c in candidates.items()}
    right[DEV_NAIVE_BAYES] = cross_validated_naive_bayes(L_d, y_d, k, proba, seed)
    n = len(y_d)
    report: dict[str, Any] = {"default": default, "rows": n, "candidates": {}}
    choice, best_gain = default, 0.0
    for name, r in right.items():
        acc = float(r.mean())
        wins = int((r & ~right[default]).sum())
        losses = int((right[default] & ~r).sum())
        z = (wins - losses) / math.sqrt(wins + losses) if wins + losses else 0.0
        gain = (wins - losses) / max(n, 1)
        report["candidates"][name] = {"accuracy": acc, "stderr": math.sqrt(acc * (1 - acc) / max(n, 1)),
                                      "z_vs_default": z, "gain_vs_default": gain}
        if name != default and z > DEV_Z and gain >= DEV_MIN_GAIN and gain > best_gain:
            choice, best_gain = name, gain
    report["choice"] = choice
    return choice, report, fit_naive_bayes(L_d, y_d, k)


def explain_dev_choice(report: dict[str, Any]) -> str:
    """One line on why ``dev_choice`` kept or switched the model, from its report: the net rows a candidate
    gains over the default on the dev labels and the sign test's z (empty without a dev comparison)."""
    if not report.get("candidates"):
        return ""
    default, choice, rows = report["default"], report["choice"], report["rows"]
    scores = report["candidates"]

    def net(name: str) -> str:
        r = scores[name]
        return f"{r['gain_vs_default'] * rows:+.0f} rows net, z {r['z_vs_default']:.3f}"

    if choice != default:
        return f"switched from {default} to {choice} on the {rows} dev rows: {net(choice)}"
    closest = max((n for n in scores if n != default), key=lambda n: scores[n]["z_vs_default"])  # NB is always one
    return (f"kept {default}, the choice without labels: no candidate is better on the {rows} dev rows by more "
            f"than {DEV_Z:g} standard deviations (paired sign test) and {DEV_MIN_GAIN:.0%} of the rows "
            f"(closest: {closest}, {net(closest)})")


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


def held_out_lf_agreement(model: FittedCandidate, rows: np.ndarray, weights: np.ndarray, k: int,
                          proba: Proba, dependent: np.ndarray | None = None) -> float:
    """How often the model, with one LF left out, predicts the class that LF voted: the weighted share of
    votes (on rows some other LF also votes on) that the rest of the model reproduces. Needs no gold
    labels; with LFs better than chance and independent given the class it grows with the model's
    accuracy, so it can tell when a fitted generative model is worse than majority vote. Majority vote
    is scored on plain vote counts, every LF one vote: near-copies of the left-out LF then vouch for
    it, which leans the comparison toward majority vote where LFs are dependent (the safe side)."""
    ii, jj = vote_positions(rows)
    votes = rows[ii, jj].astype(np.int64)
    n_votes = (rows >= 0).sum(axis=1)
    keep = n_votes[ii] >= 2
    if dependent is not None and dependent.any():
        # A vote cast together with an LF it depends on beyond the class is not independent evidence
        # of the class: it is not scored (the moments leave those overlaps out the same way).
        partners = (rows >= 0).astype(np.int64) @ dependent.astype(np.int64)  # row x LF: dependent LFs voting
        keep &= partners[ii, jj] == 0
    ii, jj, votes = ii[keep], jj[keep], votes[keep]
    if len(ii) == 0:
        return float("nan")
    if model.name == MAJORITY_VOTE:
        rest = vote_counts(rows, k)[ii]
        rest[np.arange(len(ii)), votes] -= 1.0
        if model.tie_break is not None:  # ties split by the tie-breaker's posterior without the LF left out
            tb = model.tie_break
            tie_scores = np.log(np.clip(proba(covered_only(tb), rows), 1e-300, None))[ii] \
                - tb.log_vote[jj, votes + 1, :]
        else:
            tie_scores = np.zeros_like(rest)
        pred = np.where(top_ties(rest), tie_scores + _nudge(model)[None, :], -np.inf).argmax(axis=1)
    else:
        scores = np.log(np.clip(proba(covered_only(model), rows), 1e-300, None))
        rest = scores[ii] - model.log_vote[jj, votes + 1, :]
        pred = (rest + _nudge(model)[None, :]).argmax(axis=1)
    w = weights[ii]
    hit = w * (pred == votes)
    # Per voted class, then averaged: the class most LFs vote for does not outweigh the rest.
    shares = [hit[votes == c].sum() / w[votes == c].sum() for c in range(k) if w[votes == c].sum() > 0]
    return float(np.mean(shares))


def _nudge(model: FittedCandidate) -> np.ndarray:
    """A tie goes to the class with the larger prior: a nudge far below any real gap."""
    return 1e-9 * (model.log_prior - model.log_prior.min()) / max(1.0, float(np.ptp(model.log_prior)) or 1.0)


def agrees_with_majority(model: FittedCandidate, rows: np.ndarray, weights: np.ndarray, k: int,
                         proba: Proba) -> bool:
    """Whether the model gives majority vote's class on at least half of the rows where the vote is not
    tied. EM can settle on a label-swapped optimum (LFs read as mostly wrong); this catches it."""
    counts = np.stack([(rows == c).sum(axis=1) for c in range(k)], axis=1)
    top = np.sort(counts, axis=1)[:, -2:]
    decided = top[:, 1] > top[:, 0]
    if not decided.any():
        return True
    pred = proba(model, rows[decided]).argmax(axis=1)
    w = weights[decided]
    return float((w * (pred == counts[decided].argmax(axis=1))).sum() / w.sum()) >= 0.5


def held_out_votes(rows: np.ndarray, weights: np.ndarray, dependent: np.ndarray | None = None) -> float:
    """How many votes (weighted) ``held_out_lf_agreement`` scores: those on rows another LF also votes on
    (and, given ``dependent``, no LF it depends on beyond the class)."""
    voted = rows >= 0
    scored = voted & (voted.sum(axis=1) >= 2)[:, None]
    if dependent is not None and dependent.any():
        scored &= (voted.astype(np.int64) @ dependent.astype(np.int64)) == 0
    return float((weights * scored.sum(axis=1)).sum())
