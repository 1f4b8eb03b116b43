import numpy as np
import pytest
from sklearn import metrics as skm

from labelgate.errors import ModelError
from labelgate.evaluation.metrics import (
    check_probabilities,
    expected_calibration_error,
    length_bucket_names,
    length_bucket_order,
    score,
    slice_scores,
)

LABELS = np.array([0, 0, 1, 1, 1, 0])
PROBS = np.array([[0.9, 0.1], [0.4, 0.6], [0.2, 0.8], [0.3, 0.7], [0.6, 0.4], [0.8, 0.2]])


def test_scores_agree_with_sklearn_on_the_positive_class():
    scores = score(LABELS, PROBS, positive=1, bins=5)
    preds = PROBS.argmax(axis=1)
    assert scores.accuracy == pytest.approx(4 / 6)
    assert scores.precision == pytest.approx(skm.precision_score(LABELS, preds))
    assert scores.recall == pytest.approx(skm.recall_score(LABELS, preds))
    assert scores.f1 == pytest.approx(skm.f1_score(LABELS, preds))
    assert scores.roc_auc == pytest.approx(skm.roc_auc_score(LABELS, PROBS[:, 1]))
    assert scores.log_loss == pytest.approx(skm.log_loss(LABELS, PROBS))


def test_positive_class_zero_scores_the_other_class():
    flipped = score(LABELS, PROBS, positive=0, bins=5)
    assert flipped.f1 == pytest.approx(skm.f1_score(LABELS, PROBS.argmax(axis=1), pos_label=0))


def test_roc_auc_is_none_when_the_test_split_has_one_class():
    assert score(np.array([1, 1]), np.array([[0.2, 0.8], [0.6, 0.4]]), positive=1, bins=5).roc_auc is None


def test_calibration_error_is_zero_when_confidence_matches_accuracy_and_large_when_overconfident():
    labels = np.array([1, 1, 1, 0])  # 75% of rows are class 1, predicted with confidence 0.75
    calibrated = np.tile([0.25, 0.75], (4, 1))
    assert expected_calibration_error(labels, calibrated, bins=10) == pytest.approx(0.0)
    overconfident = np.tile([0.01, 0.99], (4, 1))
    assert expected_calibration_error(labels, overconfident, bins=10) == pytest.approx(0.24)


def test_bad_probabilities_and_empty_splits_are_model_errors():
    with pytest.raises(ModelError, match="NaN"):
        check_probabilities(np.array([[np.nan, 1.0]]), 1, 2, "the challenger model")
    with pytest.raises(ModelError, match="shape"):
        check_probabilities(np.ones((2, 3)) / 3, 2, 2, "the challenger model")
    with pytest.raises(ModelError, match="test split is empty"):
        score(np.array([], dtype=int), np.zeros((0, 2)), positive=1, bins=5)


def test_length_buckets_and_slices_keep_bucket_order():
    edges = (10, 20)
    names = length_bucket_names(np.array([3, 10, 19, 20, 500]), edges)
    assert names.tolist() == ["<10", "10-19", "10-19", ">=20", ">=20"]
    assert length_bucket_order(edges) == ["<10", "10-19", ">=20"]
    groups = np.array([">=20", "<10", ">=20", "<10", "<10", ">=20"])
    rows = slice_scores(LABELS, PROBS, groups, kind="length", positive=1, order=length_bucket_order(edges))
    assert [r["name"] for r in rows] == ["<10", ">=20"]  # the empty bucket is left out
    assert rows[0]["n"] == 3 and rows[0]["accuracy"] == pytest.approx(1 / 3)  # rows 1, 3, 4: only row 3 right


def test_three_classes_use_macro_averages():
    labels = np.array([0, 1, 2, 2, 1, 0])
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6], [0.5, 0.2, 0.3], [0.3, 0.4, 0.3],
                      [0.2, 0.5, 0.3]])
    scores = score(labels, probs, positive=1, bins=5)
    preds = probs.argmax(axis=1)
    assert scores.f1 == pytest.approx(skm.f1_score(labels, preds, average="macro"))
    assert scores.roc_auc == pytest.approx(skm.roc_auc_score(labels, probs, multi_class="ovr"))
