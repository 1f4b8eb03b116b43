"""Vote overlaps that contradict conditional independence are left out of the moment fit.

Two spam rules that match different kinds of spam rarely fire together, and a "short comment" ham rule
fires on bare links: conditional independence cannot produce either overlap with LFs better than
chance, and fitting them drags an accurate LF to chance (the WRENCH YouTube LFs' "http" rule).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from labelgate.labeling.model import LabelModel
from labelgate.labeling.model.dependencies import contradicting_overlaps, lf_pairs
from labelgate.labeling.model.fit_data import FitData
from labelgate.labeling.model.selection import held_out_votes
from labelgate.labeling.model.votes import distinct_rows
from labelgate.labeling.synthetic import make_dependent_spam, make_votes

LINK, CHECK_OUT, MY, SHORT, SONG, SUBJECTIVE = range(6)


def excluded(L: np.ndarray, k: int) -> np.ndarray:
    rows, weights = distinct_rows(L, None, 0)
    data = FitData(rows, weights, k, torch.device("cpu"))
    return contradicting_overlaps(data.gram(), float(weights.sum()), data.m, k)


def test_dependent_pairs_are_found_and_only_they():
    L, _ = make_dependent_spam(20_000)
    mask = excluded(L, 2)
    assert lf_pairs(mask, 2) == [(LINK, CHECK_OUT), (LINK, SHORT)]
    assert (mask == mask.T).all()


@pytest.mark.parametrize("seed", range(4))
def test_conditionally_independent_lfs_lose_no_overlap(seed):
    one_class = make_votes(n=20_000, m=10, k=2, unipolar=1.0, seed=seed)
    assert not excluded(one_class.L, 2).any()


def test_with_more_than_two_classes_nothing_is_left_out():
    # Two LFs of different classes that both fire on a third class (and neither on a fourth, the most
    # common) covary positively though they are independent given the class: the sign test holds for
    # two classes only.
    rng = np.random.default_rng(0)
    y = rng.choice(4, size=20_000, p=[0.05, 0.05, 0.3, 0.6])
    L = np.full((len(y), 2), -1, dtype=np.int8)
    L[np.isin(y, [0, 2]) & (rng.random(len(y)) < 0.6), 0] = 0
    L[np.isin(y, [1, 2]) & (rng.random(len(y)) < 0.6), 1] = 1
    both = ((L[:, 0] == 0) & (L[:, 1] == 1)).mean()
    assert both > 2 * (L[:, 0] == 0).mean() * (L[:, 1] == 1).mean()
    assert not excluded(L, 4).any()


@pytest.mark.parametrize("seed", range(4))
def test_an_lf_worse_than_chance_keeps_its_overlaps(seed):
    # Every overlap of an LF worse than chance is on the wrong side: the moments read that as the LF
    # being inverted (it votes both classes), not as a dependency.
    votes = make_votes(n=20_000, m=10, k=2, accuracy=(0.2, 0.8), seed=seed)
    assert (votes.accuracies < 0.5).any()
    assert not excluded(votes.L, 2).any()


def test_the_moments_keep_an_accurate_lf_that_a_dependency_hides():
    L, y = make_dependent_spam(20_000)
    link_rows = L[:, LINK] == 1
    auto = LabelModel(2, seed=0).fit(L)  # auto leaves the contradicting overlaps out of its moment fit
    textbook = LabelModel(2, seed=0, method="matrix_completion").fit(L)  # the textbook fit keeps every overlap

    def right(model: LabelModel) -> np.ndarray:
        return model._proba(model.candidates["matrix_completion"], L).argmax(axis=1) == y

    assert right(textbook)[link_rows].mean() < 0.2  # fitted, the overlaps read the link rule as ham
    assert right(auto)[link_rows].mean() > 0.7
    assert right(auto).mean() > right(textbook).mean() + 0.02
    p_spam = np.exp(auto.candidates["matrix_completion"].log_vote[LINK, 2, :])  # P(link votes spam | y)
    assert p_spam[1] > 2 * p_spam[0]


def test_the_pairs_are_recorded_and_survive_save_and_load(tmp_path):
    L, _ = make_dependent_spam(20_000)
    model = LabelModel(2, seed=0).fit(L)
    assert model.contradicting_pairs == [(LINK, CHECK_OUT), (LINK, SHORT)]
    model.save(tmp_path / "model.json")
    again = LabelModel.load(tmp_path / "model.json", device="cpu")
    assert again.contradicting_pairs == model.contradicting_pairs
    np.testing.assert_allclose(again.predict_proba(L[:500]), model.predict_proba(L[:500]))
    assert LabelModel(2, seed=0, method="matrix_completion").fit(L).contradicting_pairs == []


def test_selection_does_not_score_votes_cast_with_a_dependent_lf():
    # Scored on every vote, held-out LF agreement rewarded a model that reads bare links as ham (the
    # short-comment rule "agrees" with it there) and auto picked one near chance; it now leaves those
    # votes out, as the moments leave the overlaps out.
    L, y = make_dependent_spam(20_000)
    model = LabelModel(2, seed=0).fit(L)
    majority = LabelModel(2, seed=0, method="majority_vote").fit(L)
    accuracy = float((model.predict(L) == y).mean())
    assert accuracy > 0.72
    assert accuracy >= float((majority.predict(L) == y).mean()) - 0.005


def test_held_out_votes_leave_out_votes_cast_with_a_dependent_lf():
    rows = np.array([[1, 0, -1], [1, -1, 0], [-1, 0, 0], [1, -1, -1]], dtype=np.int8)
    weights = np.array([1.0, 2.0, 3.0, 4.0])
    assert held_out_votes(rows, weights) == 2 * 1 + 2 * 2 + 2 * 3
    dependent = np.zeros((3, 3), dtype=bool)
    dependent[0, 1] = dependent[1, 0] = True
    assert held_out_votes(rows, weights, dependent) == 2 * 2 + 2 * 3  # row 0's two votes are not scored
