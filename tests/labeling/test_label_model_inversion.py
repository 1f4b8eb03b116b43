"""LFs worse than chance: the moment model reads them inverted when the votes show it (they agree with
the other LFs' prediction significantly less than chance), and keeps the better-than-chance cap for
every other LF."""

import warnings

import numpy as np
import pytest
import torch

from labelgate.labeling.model import LabelModel, moments
from labelgate.labeling.model.fit_data import FitData
from labelgate.labeling.model.moments import better_than_chance, fit_moments, worse_than_chance
from labelgate.labeling.synthetic import make_keyword_lfs, make_votes


def _true_accuracy(L, y):
    voted = L >= 0
    return ((L == y[:, None]) & voted).sum(axis=0) / voted.sum(axis=0)


def test_lfs_worse_than_chance_are_flagged_and_the_others_are_not():
    votes = make_votes(n=6000, m=12, k=2, accuracy=(0.2, 0.85), coverage=(0.3, 0.7), seed=4)
    acc = _true_accuracy(votes.L, votes.y)
    assert (acc < 0.4).any() and (acc > 0.6).sum() >= 6  # the draw holds both kinds
    data = FitData(votes.L, np.ones(len(votes.L)), 2, torch.device("cpu"))
    fitted = fit_moments(data, None)
    capped = torch.from_numpy(fitted.log_vote).clone()
    # Score agreement against a model that reads every LF at best as chance, as the fit does.
    capped[:, 1:, :] = torch.log(better_than_chance(torch.exp(capped[:, 1:, :])))
    flagged = worse_than_chance(data, capped, torch.from_numpy(fitted.log_prior))
    assert flagged[acc < 0.4].all()  # clearly worse than chance
    assert not flagged[acc > 0.5].any()  # better than chance: never inverted


def test_reading_lfs_worse_than_chance_inverted_labels_better_than_capping_them(monkeypatch):
    votes = make_votes(n=6000, m=12, k=2, accuracy=(0.2, 0.85), coverage=(0.3, 0.7), seed=4)
    inverted = LabelModel(2, method="matrix_completion", seed=0).fit(votes.L)
    # The same fit with no LF flagged: every LF capped at chance, as before the inversion existed.
    monkeypatch.setattr(moments, "worse_than_chance", lambda data, *args, **kwargs: np.zeros(data.m, dtype=bool))
    capped = LabelModel(2, method="matrix_completion", seed=0).fit(votes.L)
    acc = _true_accuracy(votes.L, votes.y)
    assert (inverted.get_weights()[acc < 0.4] < capped.get_weights()[acc < 0.4]).all()
    assert (inverted.predict(votes.L) == votes.y).mean() > (capped.predict(votes.L) == votes.y).mean() + 0.01


def test_one_class_keyword_lfs_are_never_flagged():
    balance = np.array([0.5, 0.3, 0.2])
    lfs = make_keyword_lfs(20, 3, (0.05, 0.3), (0.2, 0.9), balance, seed=3)  # some precisions below chance
    L, _ = lfs.draw(5000, balance, np.random.default_rng(0))
    data = FitData(L, np.ones(len(L)), 3, torch.device("cpu"))
    fitted = fit_moments(data, None)
    flagged = worse_than_chance(data, torch.from_numpy(fitted.log_vote), torch.from_numpy(fitted.log_prior))
    assert not flagged.any()


def _kappa_z(rows, w, log_vote, log_prior, lfs=None):
    """Per LF, from the definition with loops: on the rows where it and at least one other LF vote, its
    vote against the class the model predicts from every other LF; z of its agreement below the chance
    rate ``sum_c P(vote c) P(pred c)`` (binomial standard error at that rate, weighted row count)."""
    m, k = rows.shape[1], log_vote.shape[2]
    z = np.full(m, np.nan)
    for j in range(m):
        if lfs is not None and not lfs[j]:
            continue
        n = agree = 0.0
        vote_share, pred_share = np.zeros(k), np.zeros(k)
        for i in range(len(rows)):
            if rows[i, j] < 0 or (rows[i] >= 0).sum() < 2:
                continue
            score = log_prior.copy()
            for other in range(m):
                if other != j:
                    score = score + log_vote[other, rows[i, other] + 1]  # index 0: abstain
            pred = int(np.argmax(score))
            n += w[i]
            agree += w[i] * (pred == rows[i, j])
            vote_share[rows[i, j]] += w[i]
            pred_share[pred] += w[i]
        if n > 0:
            chance = (vote_share * pred_share).sum() / n**2
            if 0 < chance < 1:
                z[j] = (agree / n - chance) / np.sqrt(chance * (1 - chance) / n)
    return z


def _random_case(scale, seed=0):
    rng = np.random.default_rng(seed)
    n, m, k = 80, 5, 3
    rows = rng.integers(-1, k, size=(n, m))
    rows[:10, 1:] = -1  # rows where LF 0 votes alone: not counted
    rows[10:20, 2:] = -1  # rows with exactly two votes: counted
    w = rng.uniform(0.2, 3.0, size=n) * scale  # scale 0.005: every LF's weighted count below 1
    log_vote = rng.normal(size=(m, k + 1, k))
    log_prior = rng.normal(size=k)
    return rows, w, log_vote, log_prior


@pytest.mark.parametrize("scale", [1.0, 0.005])
def test_worse_than_chance_flags_an_lf_exactly_when_its_kappa_z_is_below_the_threshold(scale):
    rows, w, log_vote, log_prior = _random_case(scale)
    z = _kappa_z(rows, w, log_vote, log_prior)
    assert np.isfinite(z).all() and len(np.unique(np.round(z, 6))) == len(z)
    if scale < 1:
        counts = [(w * ((rows[:, j] >= 0) & ((rows >= 0).sum(axis=1) >= 2))).sum() for j in range(rows.shape[1])]
        assert max(counts) < 1
    data = FitData(rows, w, 3, torch.device("cpu"))
    lv, lp = torch.from_numpy(log_vote), torch.from_numpy(log_prior)
    for j, zj in enumerate(z):
        delta = 1e-7 * max(1.0, abs(zj))
        # threshold just past the LF's z: flagged; just short of it: not (z_min is how far below chance)
        assert worse_than_chance(data, lv, lp, z_min=-zj - delta)[j]
        assert not worse_than_chance(data, lv, lp, z_min=-zj + delta)[j]
        # testing this LF alone gives the same verdict; an LF left out of the mask is never flagged
        alone = np.arange(len(z)) == j
        assert worse_than_chance(data, lv, lp, alone, z_min=-zj - delta)[j]
        assert not worse_than_chance(data, lv, lp, alone, z_min=-zj + delta)[j]
        assert not worse_than_chance(data, lv, lp, ~alone, z_min=-z.max() - 1)[j]


def test_an_lf_agreeing_exactly_at_chance_is_not_below_it():
    # LF 1 decides the prediction LF 0 is compared with, and vice versa: each agrees on 2 of 4 rows,
    # voting and predicted 50/50, so agreement is exactly the chance rate 0.5 (z = 0).
    rows = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    log_vote = np.log(np.array([[[0.5, 0.5], [0.9, 0.1], [0.1, 0.9]]] * 2))
    log_prior = np.log(np.array([0.5, 0.5]))
    assert np.allclose(_kappa_z(rows, np.ones(4), log_vote, log_prior), 0)
    data = FitData(rows, np.ones(4), 2, torch.device("cpu"))
    flagged = worse_than_chance(data, torch.from_numpy(log_vote), torch.from_numpy(log_prior), z_min=0.0)
    assert not flagged.any()


def test_lfs_without_a_defined_z_are_not_flagged_and_raise_no_warning():
    # LF 2 votes on one counted row (chance 0 or 1: z is 0/0); LF 4 never votes (no counted row at all).
    rows = np.array([[0, 1, -1, 0, -1], [1, 0, -1, 0, -1], [0, 0, -1, 0, -1], [1, 1, 0, 0, -1]])
    rows = np.vstack([rows, [[-1, -1, -1, 0, -1]]])  # a row with one vote: not counted
    log_vote = np.log(np.array([[[0.5, 0.5], [0.9, 0.1], [0.1, 0.9]]] * 5))
    log_prior = np.log(np.array([0.5, 0.5]))
    data = FitData(rows, np.ones(len(rows)), 2, torch.device("cpu"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the 0/0 of an LF without a defined z must stay silent
        flagged = worse_than_chance(data, torch.from_numpy(log_vote), torch.from_numpy(log_prior),
                                    np.ones(5, dtype=bool), z_min=-1e9)
    assert flagged[[0, 1, 3]].all()  # z_min far below: every LF with a defined z is flagged
    assert not flagged[[2, 4]].any()


def test_an_inverted_lf_reads_the_moments_table_weighted_as_its_group(monkeypatch):
    votes = make_votes(n=6000, m=12, k=2, accuracy=(0.2, 0.85), coverage=(0.3, 0.7), seed=4)
    acc = _true_accuracy(votes.L, votes.y)
    bad = int(np.flatnonzero(acc < 0.4)[0])
    group = np.arange(12)
    group[bad] = (bad + 1) % 12  # paired with a neighbour: LF weight 1/2
    data = FitData(votes.L, np.ones(len(votes.L)), 2, torch.device("cpu"), lf_group=group)
    seen = []
    real = moments.better_than_chance

    def spy(table):
        seen.append(table.clone())
        return real(table)

    monkeypatch.setattr(moments, "better_than_chance", spy)
    fitted = fit_moments(data, None)
    raw = seen[0].numpy()
    assert data.lf_weight[bad] == 0.5
    assert (raw[bad] > real(seen[0])[bad].numpy()).any()  # the cap would change it
    assert np.allclose(fitted.log_vote[bad, 1:, :], np.log(raw[bad]) * 0.5)  # read inverted, not capped
