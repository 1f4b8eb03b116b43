import numpy as np
import pytest

from labelgate.evaluation.blessing import BootstrapResult, bless, paired_bootstrap
from labelgate.evaluation.metrics import Scores

RNG = np.random.default_rng(0)
LABELS = RNG.integers(0, 2, size=300)


def _preds(error_rate, seed):
    rng = np.random.default_rng(seed)
    wrong = rng.random(len(LABELS)) < error_rate
    return np.where(wrong, 1 - LABELS, LABELS)


def _boot(challenger, champion, metric="accuracy"):
    return paired_bootstrap(labels=LABELS, challenger=challenger, champion=champion, metric=metric,
                            n_classes=2, positive=1, resamples=1000, confidence=0.95, seed=0)


def test_identical_predictions_give_a_zero_interval():
    preds = _preds(0.1, 1)
    result = _boot(preds, preds)
    assert result.lower == result.upper == result.observed == 0.0


@pytest.mark.parametrize("metric", ["accuracy", "f1"])
def test_a_clearly_worse_challenger_has_a_negative_interval(metric):
    result = _boot(_preds(0.25, 1), _preds(0.05, 2), metric=metric)
    assert result.upper < 0 and result.lower < result.observed < result.upper


def test_bootstrap_interval_covers_the_observed_accuracy_difference():
    challenger, champion = _preds(0.1, 3), _preds(0.12, 4)
    result = _boot(challenger, champion)
    observed = (challenger == LABELS).mean() - (champion == LABELS).mean()
    assert result.observed == pytest.approx(observed)
    assert result.lower < observed < result.upper


def _scores(accuracy, f1):
    return Scores(n=100, accuracy=accuracy, precision=f1, recall=f1, f1=f1, roc_auc=0.9, log_loss=0.3,
                  calibration_error=0.05)


def test_first_model_is_decided_by_the_thresholds_alone():
    assert bless(scores=_scores(0.93, 0.92), min_accuracy=0.9, min_f1=0.9, tolerance=0.0, comparison=None).blessed
    low = bless(scores=_scores(0.93, 0.85), min_accuracy=0.9, min_f1=0.9, tolerance=0.0, comparison=None)
    assert not low.blessed and "F1 0.8500 is below the minimum 0.9000" in low.reason


def test_a_worse_challenger_is_not_blessed_and_an_equal_one_is():
    worse = _boot(_preds(0.25, 1), _preds(0.05, 2))
    decision = bless(scores=_scores(0.93, 0.92), min_accuracy=0.9, min_f1=0.9, tolerance=-0.01, comparison=worse)
    assert not decision.blessed and not decision.checks["champion"]
    assert "below the tolerance -0.0100" in decision.reason and "worse than the champion" in decision.reason
    same = _preds(0.1, 5)
    equal = bless(scores=_scores(0.93, 0.92), min_accuracy=0.9, min_f1=0.9, tolerance=0.0,
                   comparison=_boot(same, same))
    assert equal.blessed and "at or above the tolerance" in equal.reason


def test_macro_f1_bootstrap_on_three_classes_matches_sklearn_on_the_full_sample():
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(1)
    labels = rng.integers(0, 3, size=200)
    a = np.where(rng.random(200) < 0.8, labels, rng.integers(0, 3, size=200))
    b = np.where(rng.random(200) < 0.6, labels, rng.integers(0, 3, size=200))
    result = paired_bootstrap(labels=labels, challenger=a, champion=b, metric="f1", n_classes=3, positive=1,
                              resamples=500, confidence=0.9, seed=0)
    expected = f1_score(labels, a, average="macro") - f1_score(labels, b, average="macro")
    assert result.observed == pytest.approx(expected)
    assert result.lower > 0  # a is clearly better


def _interval(lower, observed, upper):
    return BootstrapResult(metric="accuracy", observed=observed, mean=observed, lower=lower, upper=upper,
                           confidence=0.95, resamples=1000, differences=np.array([lower, observed, upper]))


@pytest.mark.parametrize(("accuracy", "f1", "blessed"), [
    (0.85, 0.85, True),        # exactly at both minimums: blessed (the rule is >=)
    (0.8499, 0.85, False),
    (0.85, 0.8499, False),
])
def test_thresholds_hold_at_the_minimum_exactly(accuracy, f1, blessed):
    decision = bless(scores=_scores(accuracy, f1), min_accuracy=0.85, min_f1=0.85, tolerance=-0.02, comparison=None)
    assert decision.blessed is blessed
    assert decision.checks == {"accuracy": accuracy >= 0.85, "f1": f1 >= 0.85}


@pytest.mark.parametrize(("lower", "observed", "blessed"), [
    (-0.02, 0.01, True),       # lower bound exactly at the tolerance: blessed
    (-0.0201, 0.03, False),    # point estimate well above, lower bound below: the interval decides
    (0.001, -0.05, True),      # lower bound decides, not the point estimate
])
def test_the_champion_check_uses_the_lower_bound_not_the_point_estimate(lower, observed, blessed):
    decision = bless(scores=_scores(0.9, 0.9), min_accuracy=0.85, min_f1=0.85, tolerance=-0.02,
                     comparison=_interval(lower, observed, max(lower, observed) + 0.05))
    assert decision.blessed is blessed and decision.checks["champion"] is blessed


def test_the_interval_is_the_percentiles_of_the_paired_differences():
    challenger, champion = _preds(0.1, 3), _preds(0.15, 4)
    result = paired_bootstrap(labels=LABELS, challenger=challenger, champion=champion, metric="accuracy",
                              n_classes=2, positive=1, resamples=400, confidence=0.8, seed=7)
    assert result.differences.shape == (400,)
    assert result.lower == pytest.approx(np.quantile(result.differences, 0.1))
    assert result.upper == pytest.approx(np.quantile(result.differences, 0.9))
    assert result.mean == pytest.approx(result.differences.mean())
    assert (result.metric, result.confidence, result.resamples) == ("accuracy", 0.8, 400)
    assert result.as_dict() == {"metric": "accuracy", "observed_difference": result.observed,
                                "mean_difference": result.mean, "lower": result.lower, "upper": result.upper,
                                "confidence": 0.8, "resamples": 400}
    # Each resample draws n rows with replacement: the differences take values on a grid of 1/n.
    assert np.allclose(result.differences * len(LABELS), np.round(result.differences * len(LABELS)))
    # Paired: a resample shifts both models alike, so a challenger right on every row the champion is
    # right on, and on 10 more, wins on every resample.
    better = np.where(np.arange(len(LABELS)) < 10, LABELS, champion)
    paired = paired_bootstrap(labels=LABELS, challenger=better, champion=champion, metric="accuracy",
                              n_classes=2, positive=1, resamples=200, confidence=0.95, seed=0)
    assert paired.differences.min() >= 0 and paired.observed > 0


@pytest.mark.parametrize("positive", [0, 1])
def test_binary_f1_is_the_positive_class_f1_on_the_full_sample(positive):
    from sklearn.metrics import f1_score

    challenger, champion = _preds(0.1, 8), _preds(0.2, 9)
    result = paired_bootstrap(labels=LABELS, challenger=challenger, champion=champion, metric="f1", n_classes=2,
                              positive=positive, resamples=50, confidence=0.95, seed=0)
    expected = (f1_score(LABELS, challenger, pos_label=positive)
                - f1_score(LABELS, champion, pos_label=positive))
    assert result.observed == pytest.approx(expected)


def test_f1_of_a_class_never_predicted_nor_present_is_zero_not_nan():
    labels = np.zeros(20, dtype=int)
    result = paired_bootstrap(labels=labels, challenger=labels, champion=labels, metric="f1", n_classes=2,
                              positive=1, resamples=20, confidence=0.95, seed=0)
    assert result.observed == 0.0 and not np.isnan(result.differences).any()


def test_reasons_say_every_failed_check_and_the_numbers():
    worse = _interval(-0.08, -0.03, 0.01)
    decision = bless(scores=_scores(0.8, 0.7), min_accuracy=0.85, min_f1=0.75, tolerance=-0.02, comparison=worse)
    assert decision == type(decision)(
        False,
        "not blessed: test accuracy 0.8000 is below the minimum 0.8500; test F1 0.7000 is below the minimum "
        "0.7500; accuracy difference challenger - champion -0.0300, 95% CI [-0.0800, +0.0100] over 1000 paired "
        "resamples: the lower bound is below the tolerance -0.0200, so it may be worse than the champion",
        {"accuracy": False, "f1": False, "champion": False})
    first = bless(scores=_scores(0.9, 0.8), min_accuracy=0.85, min_f1=0.75, tolerance=0.0, comparison=None)
    assert first.reason == ("blessed: test accuracy 0.9000 >= 0.8500 and F1 0.8000 >= 0.7500; no champion yet, "
                            "so the thresholds decide")
    assert bless(scores=_scores(0.8, 0.8), min_accuracy=0.85, min_f1=0.75, tolerance=0.0,
                 comparison=None).reason == "not blessed: test accuracy 0.8000 is below the minimum 0.8500"
    better = bless(scores=_scores(0.9, 0.8), min_accuracy=0.85, min_f1=0.75, tolerance=-0.02,
                   comparison=_interval(0.01, 0.02, 0.04))
    assert better.reason == (
        "blessed: test accuracy 0.9000 >= 0.8500 and F1 0.8000 >= 0.7500; accuracy difference challenger - "
        "champion +0.0200, 95% CI [+0.0100, +0.0400] over 1000 paired resamples: the lower bound is at or "
        "above the tolerance -0.0200")
    assert better.checks == {"accuracy": True, "f1": True, "champion": True}
    # Thresholds met, champion check failed: blocked by the comparison alone.
    alone = bless(scores=_scores(0.9, 0.8), min_accuracy=0.85, min_f1=0.75, tolerance=-0.02, comparison=worse)
    assert not alone.blessed and alone.reason.startswith("not blessed: accuracy difference")
