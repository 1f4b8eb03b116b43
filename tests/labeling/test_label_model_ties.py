"""Majority vote inside the auto label model: ties settled by the fitted model, and dev labels that say
nothing leave the model alone."""

import numpy as np
import pytest

from labelgate.labeling.model import LabelModel
from labelgate.labeling.model.candidate import MAJORITY_VOTE, split_ties
from labelgate.labeling.model.votes import vote_counts
from labelgate.labeling.synthetic import development_suite


@pytest.fixture(scope="module")
def suite():
    return {s.name: s for s in development_suite(scale=0.4)}


def test_split_ties_gives_a_tie_to_the_tie_breakers_class_and_leaves_clear_rows_alone():
    shares = np.array([[0.5, 0.5, 0.0], [0.6, 0.4, 0.0], [0.4, 0.4, 0.2], [1 / 3, 1 / 3, 1 / 3]])
    tie_probs = np.array([[0.2, 0.8, 0.0], [0.1, 0.9, 0.0], [0.3, 0.1, 0.6], [0.2, 0.3, 0.5]])
    out = split_ties(shares, tie_probs)
    assert out.argmax(axis=1).tolist() == [1, 0, 0, 2]  # row 2: class 2 is not tied on top, so it stays out
    np.testing.assert_allclose(out[1], shares[1])
    np.testing.assert_allclose(out.sum(axis=1), 1.0)
    np.testing.assert_allclose(out[2], [0.6, 0.2, 0.2])


@pytest.mark.parametrize("name", ["keyword-6class", "keyword-9class"])
def test_majority_vote_candidate_keeps_clear_majorities_and_settles_ties_better_than_the_prior(suite, name):
    s = suite[name]
    model = LabelModel(cardinality=s.k, seed=0).fit(s.L_train)
    plain = LabelModel(cardinality=s.k, method="majority_vote", seed=0).fit(s.L_train)
    mv = model.candidates[MAJORITY_VOTE]
    assert mv.tie_break is not None and mv.tie_break.name != MAJORITY_VOTE
    model.selected = mv
    ours, theirs = model.predict(s.L_test), plain.predict(s.L_test)
    counts = vote_counts(s.L_test, s.k)
    top = np.isclose(counts, counts.max(axis=1, keepdims=True))
    clear = (top.sum(axis=1) == 1)
    tied = (top.sum(axis=1) > 1) & (counts.sum(axis=1) > 0)
    assert clear.sum() > 50 and tied.sum() > 30
    np.testing.assert_array_equal(ours[clear], theirs[clear])
    assert np.all(top[tied, ours[tied]])  # a tie goes to one of the tied classes
    assert (ours[tied] == s.y_test[tied]).mean() > (theirs[tied] == s.y_test[tied]).mean() + 0.05


@pytest.mark.parametrize("name", ["spam-binary", "keyword-6class"])
def test_dev_labels_that_carry_no_information_do_not_change_the_labels(suite, name):
    s = suite[name]
    noise = np.random.default_rng(7).permutation(s.y_dev)  # the dev rows' labels, shuffled
    plain = LabelModel(cardinality=s.k, seed=0).fit(s.L_train)
    with_dev = LabelModel(cardinality=s.k, seed=0).fit(s.L_train, L_dev=s.L_dev, Y_dev=noise)
    assert with_dev.selected_method == plain.selected_method
    np.testing.assert_allclose(with_dev.predict_proba(s.L_test), plain.predict_proba(s.L_test))
    assert with_dev.dev_selection["choice"] == plain.selected_method
