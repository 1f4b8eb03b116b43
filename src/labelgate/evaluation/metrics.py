"""Scores of predicted probabilities against gold labels: the numbers the gate and the report use."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn import metrics as skm

from labelgate.errors import ModelError


@dataclass(frozen=True)
class Scores:
    """Test-split metrics of one model; ``roc_auc`` is None when the split holds a single class."""

    n: int
    accuracy: float
    precision: float
    recall: float
    f1: float
    roc_auc: float | None
    log_loss: float
    calibration_error: float

    def as_dict(self) -> dict[str, float | int | None]:
        return dict(self.__dict__)


def check_probabilities(probs: np.ndarray, n_rows: int, n_classes: int, who: str) -> np.ndarray:
    """The model's output must be finite, n x k, and sum to 1 per row; else a ModelError naming ``who``."""
    probs = np.asarray(probs, dtype=np.float64)
    if probs.shape != (n_rows, n_classes):
        raise ModelError(f"{who} returned probabilities of shape {probs.shape}, expected {(n_rows, n_classes)}")
    if not np.isfinite(probs).all():
        raise ModelError(f"{who} returned NaN/inf probabilities for {int((~np.isfinite(probs)).any(axis=1).sum())} "
                         "test row(s)")
    if not np.allclose(probs.sum(axis=1), 1.0, atol=1e-4):
        raise ModelError(f"{who} returned probabilities that do not sum to 1")
    return probs


def calibration_bins(labels: np.ndarray, probs: np.ndarray, bins: int) -> list[dict[str, float]]:
    """Reliability table: rows grouped by confidence (max probability) into equal-width bins."""
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    table = []
    for b in range(bins):
        mask = which == b
        table.append({"low": float(edges[b]), "high": float(edges[b + 1]), "count": int(mask.sum()),
                      "confidence": float(confidence[mask].mean()) if mask.any() else float("nan"),
                      "accuracy": float(correct[mask].mean()) if mask.any() else float("nan")})
    return table


def expected_calibration_error(labels: np.ndarray, probs: np.ndarray, bins: int) -> float:
    """ECE: the count-weighted mean gap between confidence and accuracy over the reliability bins."""
    total = len(labels)
    return float(sum(b["count"] / total * abs(b["accuracy"] - b["confidence"])
                     for b in calibration_bins(labels, probs, bins) if b["count"]))


def score(labels: np.ndarray, probs: np.ndarray, *, positive: int, bins: int) -> Scores:
    """All test metrics. Binary tasks score the ``positive`` class; multi-class ones use macro averages."""
    labels = np.asarray(labels, dtype=np.int64)
    k = probs.shape[1]
    if len(labels) == 0:
        raise ModelError("the test split is empty: there is nothing to evaluate on")
    preds = probs.argmax(axis=1)
    binary = k == 2
    average = "binary" if binary else "macro"
    kwargs = {"pos_label": positive} if binary else {"labels": list(range(k))}
    precision, recall, f1, _ = skm.precision_recall_fscore_support(
        labels, preds, average=average, zero_division=0, **kwargs)
    roc_auc = None
    if len(np.unique(labels)) == k:
        roc_auc = float(skm.roc_auc_score(labels, probs[:, positive]) if binary
                        else skm.roc_auc_score(labels, probs, multi_class="ovr", labels=list(range(k))))
    clipped = np.clip(probs, 1e-7, 1.0)
    return Scores(
        n=len(labels), accuracy=float((preds == labels).mean()), precision=float(precision),
        recall=float(recall), f1=float(f1), roc_auc=roc_auc,
        log_loss=float(skm.log_loss(labels, clipped / clipped.sum(axis=1, keepdims=True), labels=list(range(k)))),
        calibration_error=expected_calibration_error(labels, probs, bins),
    )


def length_bucket_names(lengths: np.ndarray, edges: Sequence[int]) -> np.ndarray:
    """A readable bucket name per text length, e.g. ``<40``, ``40-79``, ``>=160`` characters."""
    names = [f"<{edges[0]}"] + [f"{lo}-{hi - 1}" for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    names.append(f">={edges[-1]}")
    return np.asarray(names, dtype=object)[np.digitize(lengths, edges)]


def length_bucket_order(edges: Sequence[int]) -> list[str]:
    """The bucket names of :func:`length_bucket_names`, shortest first."""
    return list(length_bucket_names(np.asarray([0, *edges]), edges))


def slice_scores(labels: np.ndarray, probs: np.ndarray, groups: np.ndarray, *, kind: str,
                 positive: int, order: Sequence[str] | None = None) -> list[dict[str, object]]:
    """Accuracy and F1 within each group (a source file, a length bucket); empty groups are left out."""
    preds = probs.argmax(axis=1)
    present = set(groups.tolist())
    names = [g for g in order if g in present] if order is not None else sorted(present, key=str)
    rows = []
    for name in names:
        mask = groups == name
        y, p = labels[mask], preds[mask]
        f1 = skm.f1_score(y, p, pos_label=positive, zero_division=0) if probs.shape[1] == 2 else \
            skm.f1_score(y, p, average="macro", zero_division=0)
        rows.append({"slice": kind, "name": str(name), "n": int(mask.sum()), "accuracy": float((y == p).mean()),
                     "f1": float(f1), "positive_rate": float((y == positive).mean())})
    return rows
