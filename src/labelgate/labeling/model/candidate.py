"""A fitted candidate label model (per-LF log-potentials and a class prior), the candidate names, and
the posterior any candidate gives a label matrix."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from labelgate.labeling.model.votes import VoteMatrix, majority_proba, row_scores

MAJORITY_VOTE = "majority_vote"
ONE_COIN = "one_coin"
DAWID_SKENE = "dawid_skene"
DAWID_SKENE_ABSTAIN = "dawid_skene_abstain"
MATRIX_COMPLETION = "matrix_completion"
DEV_NAIVE_BAYES = "dev_naive_bayes"  # supervised: only when dev labels are given
# In order of preference: on equal dev accuracy the earlier one is kept.
CANDIDATES = (MATRIX_COMPLETION, MAJORITY_VOTE, DAWID_SKENE_ABSTAIN, DAWID_SKENE, ONE_COIN)


@dataclass
class FittedCandidate:
    """One fitted generative model: per-LF log-potentials ``log P(vote | y)`` and the class prior."""

    name: str
    log_vote: np.ndarray  # m x (k+1) x k; index 0 of axis 1 = abstain
    log_prior: np.ndarray  # k
    iterations: int = 0
    log_uncovered: np.ndarray | None = None  # k: scores for rows where every LF abstains (None: the prior)
    lf_weight: np.ndarray | None = None  # m: majority vote's weight per LF (dependent LFs share one vote)
    # Majority vote only: the fitted model whose posterior splits a tie between the top classes (None:
    # the prior's order). A tie is then settled by evidence (which LFs voted and, for a model of abstains,
    # which stayed silent), not by chance; rows with a clear majority keep majority vote's answer.
    tie_break: FittedCandidate | None = None


def posterior(model: FittedCandidate, L: np.ndarray, k: int, device: torch.device) -> np.ndarray:
    """``P(y | votes)`` for every row of ``L`` under ``model`` (n x k)."""
    if model.name == MAJORITY_VOTE:
        probs = majority_proba(L, k, model.log_prior, model.lf_weight)
        if model.tie_break is not None:
            probs = split_ties(probs, posterior(covered_only(model.tie_break), L, k, device))
        if model.log_uncovered is not None:
            uncovered = ~(L >= 0).any(axis=1)
            scores = model.log_uncovered - model.log_uncovered.max()
            probs[uncovered] = np.exp(scores) / np.exp(scores).sum()
        return probs
    log_vote = torch.from_numpy(model.log_vote).to(device)
    X = VoteMatrix(L, k, device)
    scores = row_scores(X, log_vote, torch.from_numpy(model.log_prior).to(device))
    if model.log_uncovered is not None:
        uncovered = torch.from_numpy(~(L >= 0).any(axis=1)).to(device)
        scores[uncovered] = torch.from_numpy(model.log_uncovered).to(device)
    return torch.softmax(scores, dim=1).cpu().numpy()


def covered_only(model: FittedCandidate) -> FittedCandidate:
    """The model without its scores for rows where no LF votes (those rows then get its prior)."""
    return FittedCandidate(model.name, model.log_vote, model.log_prior, model.iterations, None, model.lf_weight,
                           model.tie_break)


def top_ties(scores: np.ndarray) -> np.ndarray:
    """``n x k``: whether each class has the row's top score (float sums of LF weights compared with a
    tolerance)."""
    return np.isclose(scores, scores.max(axis=1, keepdims=True), rtol=0, atol=1e-9)


def split_ties(shares: np.ndarray, tie_probs: np.ndarray) -> np.ndarray:
    """Majority vote's shares with the mass of the classes tied on top split in proportion to
    ``tie_probs``; rows with one top class are unchanged. The largest split part is at least the tied
    share, so the argmax is the tie-breaker's favourite among the tied classes."""
    tied = top_ties(shares)
    several = tied.sum(axis=1) > 1
    if not several.any():
        return shares
    out = shares.copy()
    t, p = tied[several], np.clip(tie_probs[several], 1e-300, None) * tied[several]
    mass = (shares[several] * t).sum(axis=1, keepdims=True)
    out[several] = np.where(t, mass * p / p.sum(axis=1, keepdims=True), shares[several])
    return out


def argmax_by_prior(probs: np.ndarray, log_prior: np.ndarray) -> np.ndarray:
    """The most probable class per row; a tie goes to the more frequent class (a nudge by the prior far
    below any real gap)."""
    nudge = 1e-9 * (log_prior - log_prior.min()) / max(1.0, float(np.ptp(log_prior)) or 1.0)
    return (probs + nudge[None, :]).argmax(axis=1)
