"""The Dawid-Skene family fitted by EM on weighted distinct rows: full class-conditional confusion
matrices with abstains ignored (``dawid_skene``) or modelled per class (``dawid_skene_abstain``), and
one accuracy per LF (``one_coin``)."""

from __future__ import annotations

import numpy as np
import torch

from labelgate.errors import LabelingError
from labelgate.labeling.model.candidate import DAWID_SKENE, DAWID_SKENE_ABSTAIN, ONE_COIN, FittedCandidate
from labelgate.labeling.model.fit_data import FitData
from labelgate.labeling.model.votes import row_scores, softmax_rows

EM_MODELS = (DAWID_SKENE, DAWID_SKENE_ABSTAIN, ONE_COIN)


def fit_em(
    data: FitData, name: str, fixed_prior: np.ndarray | None, smoothing: float, max_iter: int, tol: float
) -> FittedCandidate:
    """EM from majority vote's soft labels until the soft labels move less than ``tol``."""
    if name not in EM_MODELS:
        raise LabelingError(f"unknown label model candidate '{name}'")
    prior_t = None if fixed_prior is None else torch.tensor(fixed_prior, dtype=torch.float64, device=data.device)
    # Abstain-ignoring models learn nothing from rows with no votes; the abstain model does.
    use = data.covered if name != DAWID_SKENE_ABSTAIN else torch.ones_like(data.covered)
    q = data.q_mv.clone()
    log_vote = prior = None
    # Without the abstain signal, a free prior lets EM explain one class's LFs as always wrong
    # (it collapses to one class when LFs vote one class each): keep majority vote's prior there.
    mv_prior = _prior(data, data.q_mv, data.covered, prior_t) if name != DAWID_SKENE_ABSTAIN else None
    lw = torch.from_numpy(data.lf_weight).to(data.device)[:, None, None]
    iterations = 0
    while iterations < max_iter:
        iterations += 1
        prior = _prior(data, q, use, prior_t) if mv_prior is None else mv_prior
        # Dependent LFs (a group of near-copies) are scored with weight 1/size: one piece of evidence.
        log_vote = _m_step(data, name, q, use, smoothing) * lw
        q_new = softmax_rows(row_scores(data.X, log_vote, torch.log(prior)))
        q_new = torch.where(use[:, None], q_new, q)
        change = float((q_new - q).abs().max())
        q = q_new
        if change < tol:
            break
    assert log_vote is not None and prior is not None
    return FittedCandidate(name, log_vote.cpu().numpy(), torch.log(prior).cpu().numpy(), iterations)


def _prior(data: FitData, q: torch.Tensor, use: torch.Tensor, fixed: torch.Tensor | None) -> torch.Tensor:
    if fixed is not None:
        return fixed
    mass = (q * (data.w * use)[:, None]).sum(dim=0) + 1.0
    return mass / mass.sum()


def _m_step(data: FitData, name: str, q: torch.Tensor, use: torch.Tensor, s: float) -> torch.Tensor:
    k, m = data.k, data.m
    wq = q * (data.w * use)[:, None]  # n x k
    votes = data.X.tmm(wq.contiguous()).reshape(m, k, k)  # [j, vote c, class y]
    class_mass = wq.sum(dim=0)  # k
    eye = torch.eye(k, dtype=torch.float64, device=data.device)
    pseudo = s * (0.7 * eye + 0.3 * (1 - eye) / (k - 1))  # a weak prior: LFs better than chance
    log_vote = torch.zeros((m, k + 1, k), dtype=torch.float64, device=data.device)
    if name == ONE_COIN:
        right = torch.diagonal(votes, dim1=1, dim2=2).sum(dim=1) + 0.7 * s
        cast = votes.sum(dim=(1, 2)) + s
        acc = (right / cast).clamp(1e-4, 1 - 1e-4)
        wrong = (1 - acc) / (k - 1)
        table = wrong[:, None, None] * (1 - eye) + acc[:, None, None] * eye
        log_vote[:, 1:, :] = torch.log(table)
    elif name == DAWID_SKENE:
        table = votes + pseudo[None]
        log_vote[:, 1:, :] = torch.log(table / table.sum(dim=1, keepdim=True))
    else:  # DAWID_SKENE_ABSTAIN
        voted = votes.sum(dim=1)  # m x k
        abstained = (class_mass[None, :] - voted).clamp_min(0) + s * (1 - data.coverage)[:, None]
        table = torch.cat([abstained[:, None, :], votes + pseudo[None] * data.coverage[:, None, None]], dim=1)
        log_vote = torch.log(table / table.sum(dim=1, keepdim=True))
    return log_vote
