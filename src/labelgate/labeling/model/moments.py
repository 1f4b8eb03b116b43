"""Snorkel's moment method (MeTaL-style matrix completion): fit ``P(vote_j = c | y)`` so that the
model's vote overlaps match the observed ones, with the analytic gradient and SGD with momentum."""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

from labelgate.labeling.model.candidate import MATRIX_COMPLETION, FittedCandidate
from labelgate.labeling.model.fit_data import FitData
from labelgate.labeling.model.votes import row_scores, vote_positions

WORSE_THAN_CHANCE_Z = 3.0  # standard errors below chance agreement that mark an LF worse than chance


def fit_moments(
    data: FitData, fixed_prior: np.ndarray | None, epochs: int = 100, lr: float = 0.01, momentum: float = 0.9,
    prec_init: float = 0.7, init_scale: float = 0.5,
) -> FittedCandidate:
    """Fit ``mu[j*k+c, y] = P(vote_j = c | y)`` so that ``mu P mu^T`` matches the off-block-diagonal
    overlap matrix ``O`` of the votes (P: the class prior, uniform unless given)."""
    k, m, device = data.k, data.m, data.device
    d = m * k
    total = data.w.sum()
    overlap = (torch.from_numpy(data.gram()).to(device) / total).float()
    if fixed_prior is not None:
        prior = torch.tensor(fixed_prior, dtype=torch.float32, device=device)
    else:
        prior = torch.full((k,), 1.0 / k, dtype=torch.float32, device=device)
    P = torch.diag(prior)
    lps = torch.diagonal(overlap)
    mu_init = torch.zeros((d, k), dtype=torch.float32, device=device)
    index = torch.arange(d, device=device)
    mu_init[index, index % k] = (lps * prec_init / prior[index % k]).clamp(0, 1)
    # Overlaps within one LF, and between LFs found dependent (dependencies.py), are not moments of
    # conditionally independent LFs: leave them out of the fit, as Snorkel does for declared dependencies.
    group = torch.from_numpy(data.lf_group).to(device)
    mask = (group[index // k][:, None] != group[index // k][None, :]).float()
    if data.excluded_overlaps is not None:
        mask = mask * (~torch.from_numpy(data.excluded_overlaps).to(device)).float()
    mu = mu_init.clone() * init_scale
    velocity = torch.zeros_like(mu)
    # SGD with momentum as torch.optim.SGD does it, on the analytic gradient of
    # ||mask * (O - mu P mu^T)||^2 + ||mu p - diag(O)||^2 (O is symmetric).
    for _ in range(epochs):
        residual = (overlap - mu @ P @ mu.t()) * mask
        grad = -4.0 * residual @ mu @ P + 2.0 * (mu @ prior - lps)[:, None] * prior[None, :]
        velocity.mul_(momentum).add_(grad)
        mu.sub_(lr * velocity)
    n = float(total)
    eps = min(0.01, 1 / 10 ** math.ceil(math.log10(max(n, 2))))
    mu_hat = mu.detach().clamp(eps, 1 - eps).double()
    mu_hat = mu_hat[:, symmetry_permutation(mu_hat, prior.double(), m, k)]
    raw = mu_hat.reshape(m, k, k)
    lf_weight = torch.from_numpy(data.lf_weight).to(device)[:, None, None]
    log_prior = torch.log(prior.double())
    log_vote = torch.zeros((m, k + 1, k), dtype=torch.float64, device=device)
    log_vote[:, 1:, :] = torch.log(better_than_chance(raw)) * lf_weight
    # An LF whose votes go against what the other LFs say, beyond chance, is worse than chance: the
    # data say so, and its votes are read inverted as the moments estimate them.
    # Only LFs the cap changes can be inverted: the others are tested no further (it keeps large fits fast).
    capped = (raw > better_than_chance(raw)).flatten(1).any(dim=1).cpu().numpy()
    inverted = torch.from_numpy(worse_than_chance(data, log_vote, log_prior, capped) if capped.any()
                                else capped).to(device)
    if bool(inverted.any()):
        log_vote[inverted, 1:, :] = torch.log(raw[inverted]) * lf_weight[inverted]
    # Votes are scored as Snorkel does (abstains ignored); rows with no vote get the prior unless
    # LabelModel.fit lends them the abstain model's estimate.
    return FittedCandidate(MATRIX_COMPLETION, log_vote.cpu().numpy(), log_prior.cpu().numpy(), epochs)


def better_than_chance(table: torch.Tensor) -> torch.Tensor:
    """Weak supervision's standing assumption: a vote for class c is at least as likely when the row is c
    as when it is not. Cap ``P(vote c | y)`` at ``P(vote c | c)`` so an LF the moments misjudge can at
    worst say nothing, never vote against its own label."""
    own = torch.diagonal(table, dim1=1, dim2=2)  # m x k: P(vote c | y = c)
    return torch.minimum(table, own[:, :, None])


def worse_than_chance(data: FitData, log_vote: torch.Tensor, log_prior: torch.Tensor,
                      lfs: np.ndarray | None = None, z_min: float = WORSE_THAN_CHANCE_Z) -> np.ndarray:
    """Which LFs agree with the rest of the model less than chance would, significantly: per LF, on the
    rows where it and another LF vote, Cohen's kappa between its vote and the class the model predicts
    without it. An LF whose votes are independent of the class agrees with any prediction from the
    other (conditionally independent) LFs at the chance rate ``sum_c P(vote c) P(pred c)``; one better
    than chance above it, one worse below it. Below by more than ``z_min`` standard errors (binomial,
    at the chance rate, on the weighted row count) counts as worse than chance. An LF that votes one
    class only always agrees at the chance rate (kappa 0) and is never flagged. ``lfs``: a mask of
    the LFs to test (default: all)."""
    rows, w = data.rows, data.weights
    m, k = data.m, data.k
    ii, jj = vote_positions(rows)
    votes = rows[ii, jj].astype(np.int64)
    keep = (rows >= 0).sum(axis=1)[ii] >= 2
    if lfs is not None:
        keep &= lfs[jj]
    ii, jj, votes = ii[keep], jj[keep], votes[keep]
    flagged = np.zeros(m, dtype=bool)
    if len(ii) == 0:
        return flagged
    scores = row_scores(data.X, log_vote, log_prior).cpu().numpy()
    lv = log_vote.cpu().numpy()
    pred = (scores[ii] - lv[jj, votes + 1, :]).argmax(axis=1)
    wi = w[ii]
    n = np.bincount(jj, weights=wi, minlength=m)
    agree = np.bincount(jj, weights=wi * (pred == votes), minlength=m)
    vote_share = np.bincount(jj * k + votes, weights=wi, minlength=m * k).reshape(m, k)
    pred_share = np.bincount(jj * k + pred, weights=wi, minlength=m * k).reshape(m, k)
    with np.errstate(divide="ignore", invalid="ignore"):
        chance = (vote_share * pred_share).sum(axis=1) / np.maximum(n, 1e-300) ** 2
        z = (agree / np.maximum(n, 1e-300) - chance) / np.sqrt(chance * (1 - chance) / np.maximum(n, 1e-300))
    flagged[(n > 0) & (chance > 0) & (chance < 1) & (z < -z_min)] = True
    return flagged


def symmetry_permutation(mu: torch.Tensor, prior: torch.Tensor, m: int, k: int) -> list[int]:
    """Among classes with equal prior the moments cannot tell columns apart: pick the column order in
    which LFs agree most with the class they vote (a linear assignment)."""
    joint = (mu.reshape(m, k, k) * prior[None, None, :]).sum(dim=0).cpu().numpy()  # vote c x class y
    order = list(range(k))
    rounded = np.round(prior.cpu().numpy(), 3)
    for value in np.unique(rounded):
        group = np.flatnonzero(rounded == value)
        if len(group) < 2:
            continue
        rows, cols = linear_sum_assignment(-joint[np.ix_(group, group)])
        for r, c in zip(rows, cols, strict=True):
            order[group[r]] = int(group[c])
    return order

