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


def posterior(model: FittedCandidate, L: np.ndarray, k: int, device: torch.device) -> np.ndarray:
    """``P(y | votes)`` for every row of ``L`` under ``model`` (n x k)."""
    if model.name == MAJORITY_VOTE:
        probs = majority_proba(L, k, model.log_prior, model.lf_weight)
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


def argmax_by_prior(probs: np.ndarray, log_prior: np.ndarray) -> np.ndarray:
    """The most probable class per row; a tie goes to the more frequent class (a nudge by the prior far
    below any real gap)."""
    nudge = 1e-9 * (log_prior - log_prior.min()) / max(1.0, float(np.ptp(log_prior)) or 1.0)
    return (probs + nudge[None, :]).argmax(axis=1)
