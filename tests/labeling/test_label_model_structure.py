"""The label model's parts on the structures the development suite holds: dependent LFs, class
imbalance without dev labels, sparse one-class keyword LFs on many classes, and dev labels that must
never move the model without a significant reason."""

import numpy as np
import pytest
import torch

from labelgate.labeling.model import LabelModel
from labelgate.labeling.model.candidate import MAJORITY_VOTE, FittedCandidate
from labelgate.labeling.model.dependencies import lf_groups
from labelgate.labeling.model.selection import agrees_with_majority, unsupervised_choice
from labelgate.labeling.synthetic import development_suite, make_keyword_lfs, make_votes


def _acc(model, L, y):
    return float((model.predict(L) == y).mean())


@pytest.fixture(scope="module")
def suite():
    return {s.name: s for s in development_suite(scale=0.4)}


def test_copies_of_an_lf_form_one_group_and_independent_lfs_stay_apart():
    data = make_votes(n=4000, m=9, k=3, copies=3, coverage=(0.3, 0.6), seed=2)  # LFs 6..8 copy LFs 0..2
    from labelgate.labeling.model.fit_data import FitData

    fit = FitData(data.L, np.ones(len(data.L)), 3, torch.device("cpu"))
    groups = lf_groups(fit.gram(), fit.m, 3)
    for c in range(3):
        assert groups[6 + c] == groups[c]
    assert len(set(groups[:6].tolist())) == 6


def test_class_balance_is_estimated_without_dev_labels_on_imbalanced_keyword_lfs():
    balance = np.array([0.87, 0.13])
    lfs = make_keyword_lfs(30, 2, (0.02, 0.15), (0.6, 0.95), balance, poles=np.arange(30) % 3 != 0, seed=1)
    rng = np.random.default_rng(0)
    L, y = lfs.draw(6000, balance, rng)
    L_test, y_test = lfs.draw(2000, balance, rng)
    model = LabelModel(cardinality=2, seed=0).fit(L)
    covered = (L >= 0).any(axis=1)
    true_covered = np.bincount(y[covered], minlength=2) / covered.sum()
    np.testing.assert_allclose(model.get_class_balance(), true_covered, atol=0.05)
    mv = LabelModel(cardinality=2, method="majority_vote").fit(L)
    assert _acc(model, L_test, y_test) > _acc(mv, L_test, y_test)


@pytest.mark.parametrize("name", ["keyword-6class", "keyword-9class", "keyword-6class-grouped", "imbalanced-binary"])
def test_auto_is_at_least_majority_vote_on_sparse_keyword_sets(suite, name):
    s = suite[name]
    model = LabelModel(cardinality=s.k, seed=0).fit(s.L_train)
    mv = LabelModel(cardinality=s.k, method="majority_vote").fit(s.L_train)
    assert _acc(model, s.L_test, s.y_test) >= _acc(mv, s.L_test, s.y_test)


def test_a_tiny_dev_set_does_not_move_the_model_and_the_report_says_why(suite):
    s = suite["keyword-6class-tiny-dev"]
    plain = LabelModel(cardinality=s.k, seed=0).fit(s.L_train)
    with_dev = LabelModel(cardinality=s.k, seed=0).fit(s.L_train, L_dev=s.L_dev[:30], Y_dev=s.y_dev[:30])
    assert with_dev.selected_method == plain.selected_method
    np.testing.assert_allclose(with_dev.predict_proba(s.L_test), plain.predict_proba(s.L_test))
    report = with_dev.dev_selection
    assert report["rows"] == 30 and report["choice"] == plain.selected_method
    for entry in report["candidates"].values():
        assert 0.0 <= entry["stderr"] <= 0.5 and "z_vs_default" in entry


def test_dev_labels_that_show_a_significant_gain_switch_the_model(suite):
    s = suite["worse-than-chance-binary"]
    plain = LabelModel(cardinality=2, seed=0).fit(s.L_train)
    with_dev = LabelModel(cardinality=2, seed=0).fit(s.L_train, L_dev=s.L_dev, Y_dev=s.y_dev)
    assert with_dev.selected_method != plain.selected_method
    assert with_dev.dev_selection["candidates"][with_dev.selected_method]["z_vs_default"] > 2.5
    assert _acc(with_dev, s.L_test, s.y_test) > _acc(plain, s.L_test, s.y_test) + 0.05


def test_a_label_swapped_fit_is_recognised():
    data = make_votes(n=3000, m=8, k=2, accuracy=(0.7, 0.9), coverage=(0.4, 0.8), seed=3)
    good = LabelModel(cardinality=2, method="dawid_skene", seed=0).fit(data.L)
    fitted = good.selected
    swapped = FittedCandidate(fitted.name, fitted.log_vote[:, :, ::-1].copy(), fitted.log_prior[::-1].copy())
    w = np.ones(len(data.L))
    assert agrees_with_majority(fitted, data.L, w, 2, good._proba)
    assert not agrees_with_majority(swapped, data.L, w, 2, good._proba)


def test_unsupervised_choice_keeps_the_moments_unless_another_is_clearly_ahead():
    assert unsupervised_choice({"matrix_completion": 0.60, "majority_vote": 0.605,
                                "dawid_skene_abstain": 0.601}) == "matrix_completion"
    assert unsupervised_choice({"matrix_completion": 0.60, "majority_vote": 0.65,
                                "dawid_skene_abstain": 0.62}) == MAJORITY_VOTE
    assert unsupervised_choice({"matrix_completion": float("nan"), "majority_vote": 0.5,
                                "dawid_skene_abstain": float("nan")}) == MAJORITY_VOTE


def test_auto_model_with_dependent_lfs_round_trips(tmp_path, suite):
    s = suite["correlated-4class"]
    model = LabelModel(cardinality=4, seed=0).fit(s.L_train)
    assert model.candidates["majority_vote"].lf_weight.min() < 1.0  # the groups were found
    model.save(tmp_path / "lm.json")
    again = LabelModel.load(tmp_path / "lm.json")
    for name in model.candidates:
        model.selected = model.candidates[name]
        again.selected = again.candidates[name]
        np.testing.assert_allclose(again.predict_proba(s.L_test), model.predict_proba(s.L_test))


def test_development_suite_has_the_promised_structures(suite):
    assert {"keyword-6class", "keyword-9class", "imbalanced-binary", "correlated-4class",
            "keyword-6class-tiny-dev", "shifted-test-binary", "dependent-spam-binary"} <= set(suite)
    assert suite["keyword-9class"].k == 9 and suite["keyword-9class"].L_train.shape[1] == 160
    assert len(suite["keyword-6class-tiny-dev"].y_dev) == 30
    kw = suite["keyword-6class"].L_train
    assert all(len(set(kw[:, j][kw[:, j] >= 0].tolist())) <= 1 for j in range(kw.shape[1]))  # one class each
    assert np.bincount(suite["imbalanced-binary"].y_train, minlength=2)[1] / len(suite["imbalanced-binary"].y_train) < 0.2
    shifted = suite["shifted-test-binary"]
    assert abs(shifted.y_train.mean() - shifted.y_test.mean()) > 0.2


def test_selection_reports_survive_save_and_load(tmp_path, suite):
    s = suite["spam-binary"]
    model = LabelModel(cardinality=2, seed=0).fit(s.L_train, L_dev=s.L_dev, Y_dev=s.y_dev)
    model.save(tmp_path / "lm.json")
    again = LabelModel.load(tmp_path / "lm.json")
    assert again.dev_selection["choice"] == model.selected_method == again.selected_method
    assert set(again.agreement_scores) == set(model.agreement_scores) and again.agreement_scores
