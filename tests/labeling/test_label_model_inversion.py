"""LFs worse than chance: the moment model reads them inverted when the votes show it (they agree with
the other LFs' prediction significantly less than chance), and keeps the better-than-chance cap for
every other LF."""

import numpy as np
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
