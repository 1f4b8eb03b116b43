"""The moment method (matrix completion) on small weighted matrices, fast enough to run for every mutant:
the fit against the same objective minimised by autograd and ``torch.optim.SGD`` (not the analytic
gradient), the probability floor, the column order chosen among classes of equal prior (against brute
force over permutations), and the better-than-chance cap."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from labelgate.labeling.model.candidate import MATRIX_COMPLETION, posterior
from labelgate.labeling.model.fit_data import FitData
from labelgate.labeling.model.moments import better_than_chance, fit_moments, symmetry_permutation
from labelgate.labeling.synthetic import make_votes

CPU = torch.device("cpu")


def _rows(k: int, seed: int, m: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of ``m`` LFs plus one that votes class 0 on 90% of rows and never votes another class
    (its fit runs past 1 for class 0 and stays at 0 for the others: both ends of the clamp)."""
    votes = make_votes(n=400, m=m, k=k, accuracy=(0.6, 0.9), coverage=(0.3, 0.8), seed=seed)
    rng = np.random.default_rng(seed)
    only_zero = np.where(rng.random(len(votes.L)) < 0.9, 0, -1)
    L = np.column_stack([votes.L.astype(np.int64), only_zero])
    rows, counts = np.unique(L, axis=0, return_counts=True)
    return rows, counts.astype(np.float64)


def _objective_fit(rows, weights, k, prior, groups, epochs, lr, momentum=0.9, prec_init=0.7, init_scale=0.5):
    """``P(vote_j = c | y)`` minimising ``||mask * (O - mu P mu^T)||^2 + ||mu p - diag(O)||^2`` (O: the overlaps) with
    autograd and torch's SGD with momentum, from ``init_scale * clamp(diag(O) * prec_init / p, 0, 1)``
    on each vote's own class (mask: pairs of votes from different groups of LFs)."""
    m = rows.shape[1]
    onehot = np.concatenate([(rows[:, [j]] == np.arange(k)[None, :]) for j in range(m)], axis=1).astype(float)
    overlap = torch.tensor(onehot.T @ (onehot * weights[:, None]) / weights.sum(), dtype=torch.float32)
    p = torch.tensor(prior, dtype=torch.float32)
    lps = torch.diagonal(overlap)
    own = np.repeat(np.arange(m), k), np.tile(np.arange(k), m)
    start = torch.zeros((m * k, k))
    for i in range(m * k):
        start[i, own[1][i]] = min(max(float(lps[i]) * prec_init / float(p[own[1][i]]), 0.0), 1.0)
    mask = torch.tensor(groups[own[0]][:, None] != groups[own[0]][None, :], dtype=torch.float32)
    mu = (start * init_scale).requires_grad_()
    opt = torch.optim.SGD([mu], lr=lr, momentum=momentum)
    for _ in range(epochs):
        opt.zero_grad()
        loss = ((overlap - mu @ torch.diag(p) @ mu.t()) * mask).pow(2).sum() + (mu @ p - lps).pow(2).sum()
        loss.backward()
        opt.step()
    return mu.detach().double().numpy()


def _best_order(mu: np.ndarray, prior: np.ndarray, m: int, k: int) -> list[int]:
    """Brute force: the column order, permuting only classes of equal prior, under which the votes agree
    most (prior-weighted) with the class each one names."""
    joint = (mu.reshape(m, k, k) * prior[None, None, :]).sum(axis=0)
    allowed = [o for o in itertools.permutations(range(k))
               if all(math.isclose(prior[y], prior[o[y]], abs_tol=5e-4) for y in range(k))]
    return list(max(allowed, key=lambda o: sum(joint[y, o[y]] for y in range(k))))


def _expected(rows, weights, k, prior, groups, epochs, lr) -> np.ndarray:
    m = rows.shape[1]
    mu = _objective_fit(rows, weights, k, prior, groups, epochs, lr)
    n = weights.sum()
    floor = min(0.01, 10.0 ** -math.ceil(math.log10(n)))
    assert mu.min() < floor and mu.max() > 1 - floor  # the data reach both ends of the clamp
    mu = np.clip(mu, floor, 1 - floor)
    mu = mu[:, _best_order(mu, prior, m, k)].reshape(m, k, k)
    table = np.empty_like(mu)
    for j, c, y in itertools.product(range(m), range(k), range(k)):
        table[j, c, y] = min(mu[j, c, y], mu[j, c, c])
    weight = 1.0 / np.bincount(groups)[groups]
    return np.log(table) * weight[:, None, None]


@pytest.mark.parametrize(("k", "prior", "groups", "seed"), [
    (2, None, None, 1),
    (3, np.array([0.2, 0.3, 0.5]), None, 2),
    (2, None, np.array([0, 0, 1, 2]), 3),
])
def test_the_fit_minimises_the_moment_objective(k, prior, groups, seed) -> None:
    rows, weights = _rows(k, seed)
    data = FitData(rows, weights, k, CPU, lf_group=groups)
    fitted = fit_moments(data, prior, epochs=60, lr=0.02)
    p = np.full(k, 1.0 / k) if prior is None else prior
    g = np.arange(rows.shape[1]) if groups is None else groups
    assert fitted.name == MATRIX_COMPLETION and fitted.iterations == 60
    assert fitted.log_vote.shape == (rows.shape[1], k + 1, k)
    np.testing.assert_array_equal(fitted.log_vote[:, 0, :], 0.0)  # abstains carry no evidence
    np.testing.assert_allclose(fitted.log_vote[:, 1:, :], _expected(rows, weights, k, p, g, 60, 0.02),
                               rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np.exp(fitted.log_prior), p, rtol=1e-6)
    # The fitted model scores rows as the naive Bayes posterior of its tables (abstains ignored).
    L = rows[:5]
    scores = fitted.log_prior + np.array([sum(fitted.log_vote[j, row[j] + 1] for j in range(len(row)))
                                          for row in L])
    expected = np.exp(scores - scores.max(axis=1, keepdims=True))
    np.testing.assert_allclose(posterior(fitted, L, k, CPU), expected / expected.sum(axis=1, keepdims=True),
                               rtol=1e-12)


def test_the_default_schedule_is_a_hundred_epochs_of_momentum_sgd() -> None:
    rows, weights = _rows(2, seed=4)
    fitted = fit_moments(FitData(rows, weights, 2, CPU), None)
    assert fitted.iterations == 100
    np.testing.assert_allclose(fitted.log_vote[:, 1:, :],
                               _expected(rows, weights, 2, np.array([0.5, 0.5]), np.arange(4), 100, 0.01),
                               rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(("total", "floor"), [(1.0, 0.01), (50.0, 0.01), (100.0, 0.01), (101.0, 1e-3),
                                              (1000.0, 1e-3), (1001.0, 1e-4), (2e5, 1e-6)])
def test_the_probability_floor_shrinks_with_the_number_of_rows(total, floor) -> None:
    """Scaling the weights leaves the moments alone; only the floor (the estimate of a vote never cast)
    moves: 0.01 up to 100 rows, then one over the next power of ten."""
    rows, weights = _rows(2, seed=5)
    fitted = fit_moments(FitData(rows, weights * total / weights.sum(), 2, CPU), None, epochs=20, lr=0.01)
    never = fitted.log_vote[3, 2, :]  # the only-class-0 LF voting class 1
    np.testing.assert_allclose(never, math.log(floor), rtol=1e-6)  # clamped in float32


def test_better_than_chance_caps_each_vote_at_its_own_class() -> None:
    table = torch.tensor([[[0.6, 0.7, 0.1], [0.2, 0.1, 0.3], [0.2, 0.2, 0.6]],
                          [[0.5, 0.4, 0.9], [0.1, 0.2, 0.05], [0.4, 0.4, 0.05]]], dtype=torch.float64)
    capped = better_than_chance(table).numpy()
    expected = np.array([[[0.6, 0.6, 0.1], [0.1, 0.1, 0.1], [0.2, 0.2, 0.6]],
                         [[0.5, 0.4, 0.5], [0.1, 0.2, 0.05], [0.05, 0.05, 0.05]]])
    np.testing.assert_allclose(capped, expected)


@pytest.mark.parametrize(("prior", "seed"), [
    ([0.5, 0.5], 0), ([1 / 3] * 3, 1), ([0.25, 0.25, 0.5], 2), ([0.2, 0.3, 0.5], 3),
    ([0.2501, 0.2499, 0.5], 4), ([0.25, 0.26, 0.49], 5), ([0.3, 0.2, 0.3, 0.2], 6), ([0.4, 0.2, 0.4], 7),
])
def test_equal_prior_columns_are_ordered_as_brute_force_orders_them(prior, seed) -> None:
    k, m = len(prior), 3
    rng = np.random.default_rng(seed)
    for _ in range(20):
        mu = rng.random((m * k, k))
        p = np.array(prior)
        order = symmetry_permutation(torch.from_numpy(mu), torch.from_numpy(p), m, k)
        assert order == _best_order(mu, p, m, k)


def test_a_near_tie_goes_to_the_larger_joint_probability() -> None:
    """Priors 0.2504 and 0.2496 count as equal (to 3 decimals), and the columns are compared by the joint
    ``P(vote c, y) = P(vote c | y) P(y)``: keeping the order scores 1.0 * 0.2504 = 0.2504, swapping
    0.999 * 0.2496 = 0.2494, so the order is kept (dividing by the prior instead would swap)."""
    mu = torch.tensor([[1.0, 0.999], [0.0, 0.0]], dtype=torch.float64)
    assert symmetry_permutation(mu, torch.tensor([0.2504, 0.2496], dtype=torch.float64), 1, 2) == [0, 1]


def test_a_label_swapped_fit_is_put_back_in_order() -> None:
    """Each LF's votes for class c are most likely under column 1 - c: the columns are swapped back."""
    mu = np.array([[0.1, 0.8], [0.9, 0.2]] * 3)
    assert symmetry_permutation(torch.from_numpy(mu), torch.tensor([0.5, 0.5], dtype=torch.float64), 3, 2) == [1, 0]
    # With unequal priors the columns are told apart by the prior: nothing is swapped.
    assert symmetry_permutation(torch.from_numpy(mu), torch.tensor([0.4, 0.6], dtype=torch.float64), 3, 2) == [0, 1]


def test_the_fit_does_not_depend_on_torchs_default_dtype() -> None:
    """The fit names its float32 tensors itself: a process that set torch's default dtype to float64 (as
    some libraries do) gets the same model, not a dtype clash between the overlaps and the estimates."""
    rows, weights = _rows(3, seed=6)
    expected = fit_moments(FitData(rows, weights, 3, CPU), None, epochs=30, lr=0.02)
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        fitted = fit_moments(FitData(rows, weights, 3, CPU), None, epochs=30, lr=0.02)
    finally:
        torch.set_default_dtype(before)
    np.testing.assert_array_equal(fitted.log_vote, expected.log_vote)
    np.testing.assert_array_equal(fitted.log_prior, expected.log_prior)
