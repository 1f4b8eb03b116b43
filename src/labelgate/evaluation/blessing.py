"""The model gate: absolute thresholds, then a paired bootstrap of challenger minus champion.

Both models are scored on the same resampled test rows, so the interval reflects only the difference
between the models, not the luck of which rows made up the test split."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from labelgate.evaluation.metrics import Scores


@dataclass(frozen=True)
class BootstrapResult:
    """Distribution of ``metric(challenger) - metric(champion)`` over paired resamples of the test rows."""

    metric: str
    observed: float
    mean: float
    lower: float
    upper: float
    confidence: float
    resamples: int
    differences: np.ndarray

    def as_dict(self) -> dict[str, float | int | str]:
        return {"metric": self.metric, "observed_difference": self.observed, "mean_difference": self.mean,
                "lower": self.lower, "upper": self.upper, "confidence": self.confidence,
                "resamples": self.resamples}


def _metric(weights: np.ndarray, labels: np.ndarray, preds: np.ndarray, metric: str, k: int,
            positive: int) -> np.ndarray:
    """``metric`` for each resample; ``weights`` (B x n) counts how often each row was drawn."""
    if metric == "accuracy":
        return weights @ (preds == labels).astype(np.float64) / weights.sum(axis=1)
    classes = [positive] if k == 2 else list(range(k))
    f1s = []
    for c in classes:
        tp = weights @ ((preds == c) & (labels == c)).astype(np.float64)
        fp = weights @ ((preds == c) & (labels != c)).astype(np.float64)
        fn = weights @ ((preds != c) & (labels == c)).astype(np.float64)
        denom = 2 * tp + fp + fn
        f1s.append(np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0))
    return np.mean(f1s, axis=0)


def paired_bootstrap(*, labels: np.ndarray, challenger: np.ndarray, champion: np.ndarray, metric: str,
                     n_classes: int, positive: int, resamples: int, confidence: float,
                     seed: int) -> BootstrapResult:
    """Percentile interval of the difference in ``metric`` (accuracy or F1) between two sets of
    predictions on the same rows, resampling rows with replacement ``resamples`` times."""
    labels = np.asarray(labels)
    n = len(labels)
    rng = np.random.default_rng(seed)
    weights = rng.multinomial(n, np.full(n, 1.0 / n), size=resamples).astype(np.float64)
    full = np.ones((1, n))
    observed = float((_metric(full, labels, challenger, metric, n_classes, positive)
                      - _metric(full, labels, champion, metric, n_classes, positive))[0])
    diffs = (_metric(weights, labels, challenger, metric, n_classes, positive)
             - _metric(weights, labels, champion, metric, n_classes, positive))
    alpha = 1.0 - confidence
    lower, upper = np.quantile(diffs, [alpha / 2, 1 - alpha / 2])
    return BootstrapResult(metric=metric, observed=observed, mean=float(diffs.mean()), lower=float(lower),
                           upper=float(upper), confidence=confidence, resamples=resamples, differences=diffs)


@dataclass(frozen=True)
class Blessing:
    """Whether the challenger is blessed, why, and the checks behind it."""

    blessed: bool
    reason: str
    checks: dict[str, bool]


def bless(*, scores: Scores, min_accuracy: float, min_f1: float, tolerance: float,
          comparison: BootstrapResult | None) -> Blessing:
    """Blessed when test accuracy and F1 reach their minimums and, if there is a champion, the lower
    bound of the bootstrapped difference (challenger - champion) is at or above ``tolerance``."""
    checks = {"accuracy": scores.accuracy >= min_accuracy, "f1": scores.f1 >= min_f1}
    failed = []
    if not checks["accuracy"]:
        failed.append(f"test accuracy {scores.accuracy:.4f} is below the minimum {min_accuracy:.4f}")
    if not checks["f1"]:
        failed.append(f"test F1 {scores.f1:.4f} is below the minimum {min_f1:.4f}")
    absolute = (f"test accuracy {scores.accuracy:.4f} >= {min_accuracy:.4f} and "
                f"F1 {scores.f1:.4f} >= {min_f1:.4f}")
    if comparison is None:
        if failed:
            return Blessing(False, "not blessed: " + "; ".join(failed), checks)
        return Blessing(True, f"blessed: {absolute}; no champion yet, so the thresholds decide", checks)
    checks["champion"] = comparison.lower >= tolerance
    interval = (f"{comparison.metric} difference challenger - champion {comparison.observed:+.4f}, "
                f"{comparison.confidence:.0%} CI [{comparison.lower:+.4f}, {comparison.upper:+.4f}] "
                f"over {comparison.resamples} paired resamples")
    if not checks["champion"]:
        failed.append(f"{interval}: the lower bound is below the tolerance {tolerance:+.4f}, so it may be "
                      "worse than the champion")
    if failed:
        return Blessing(False, "not blessed: " + "; ".join(failed), checks)
    return Blessing(True, f"blessed: {absolute}; {interval}: the lower bound is at or above the "
                              f"tolerance {tolerance:+.4f}", checks)
