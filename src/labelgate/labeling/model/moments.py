"""Snorkel's moment method (MeTaL-style matrix completion): fit ``P(vote_j = c | y)`` so that the
model's vote overlaps match the observed ones, with the analytic gradient and SGD with momentum."""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

from labelgate.labeling.model.candidate import MATRIX_COMPLETION, FittedCandidate
from labelgate.labeling.model.fit_data import FitData


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
    table = better_than_chance(mu_hat.reshape(m, k, k))
    log_vote = torch.zeros((m, k + 1, k), dtype=torch.float64, device=device)
    log_vote[:, 1:, :] = torch.log(table) * torch.from_numpy(data.lf_weight).to(device)[:, None, None]
    log_prior = torch.log(prior.double())
    # Votes are scored as Snorkel does (abstains ignored); rows with no vote get the prior unless
    # LabelModel.fit lends them the abstain model's estimate.
    return FittedCandidate(MATRIX_COMPLETION, log_vote.cpu().numpy(), log_prior.cpu().numpy(), epochs)


def better_than_chance(table: torch.Tensor) -> torch.Tensor:
    """Weak supervision's standing assumption: a vote for class c is at least as likely when the row is c
    as when it is not. Cap ``P(vote c | y)`` at ``P(vote c | c)`` so an LF the moments misjudge can at
    worst say nothing, never vote against its own label."""
    own = torch.diagonal(table, dim1=1, dim2=2)  # m x k: P(vote c | y = c)
    return torch.minimum(table, own[:, :, None])


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

