"""The evaluate step as the pipeline runs it: score the trained model on the gold test split, compare
it with the registry's champion, decide whether to bless it, and write the blessing and run report."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix, roc_curve

from labelgate.champion import MODEL_SUBDIR, champion_version, download_version, open_client
from labelgate.config import load_config
from labelgate.contract import SOURCE, SPLIT, Split, gold_rows, read_table
from labelgate.errors import ModelError
from labelgate.evaluation.blessing import BootstrapResult, bless, paired_bootstrap
from labelgate.evaluation.metrics import (
    Scores,
    calibration_bins,
    check_probabilities,
    length_bucket_names,
    length_bucket_order,
    score,
    slice_scores,
)
from labelgate.evaluation.settings import EvaluationSettings
from labelgate.ingest.settings import DataSettings
from labelgate.run import Step, progress
from labelgate.training.predictor import Predictor, load_predictor


@dataclass
class ModelEvaluation:
    """One model's predictions and scores on the test rows."""

    name: str
    probs: np.ndarray
    scores: Scores
    slices: list[dict[str, Any]]
    calibration: list[dict[str, float]]
    confusion: list[list[int]]
    roc: dict[str, list[float]] | None


@dataclass
class EvaluationOutcome:
    """What the component writes: the gate outputs, flat metrics, and the KFP classification metrics."""

    blessed: bool
    reason: str
    classes: list[str]
    challenger: ModelEvaluation
    champion: ModelEvaluation | None
    bootstrap: BootstrapResult | None
    blessing: dict[str, Any]
    report_path: Path
    metrics: dict[str, float] = field(default_factory=dict)


def find_champion(registry_uri: str, model_name: str) -> tuple[str, Path] | None:
    """The champion's version and a verified copy of its model directory, or None when there is no champion.
    The version goes into the blessing: push promotes only if it is still the champion."""
    version = champion_version(open_client(registry_uri), model_name)
    if version is None:
        return None
    return version, download_version(registry_uri, model_name, version) / MODEL_SUBDIR


def evaluate_predictor(*, name: str, predictor: Predictor, texts: list[str], labels: np.ndarray,
                       groups: dict[str, tuple[np.ndarray, list[str] | None]], classes: list[str],
                       positive: int, settings: EvaluationSettings,
                       rows: pd.DataFrame | None = None) -> ModelEvaluation:
    """Predict the test rows with ``predictor`` and compute every metric, slice and curve; a model that reads
    tabular feature columns beside the text gets them from ``rows`` (the test rows, in ``texts`` order)."""
    if list(predictor.classes) != classes:
        raise ModelError(f"the {name} model predicts classes {predictor.classes}, the config names {classes}")
    columns = getattr(predictor, "feature_columns", ())
    if columns:
        missing = sorted(set(columns) - set(rows.columns if rows is not None else ()))
        if missing:
            raise ModelError(f"the {name} model reads feature column(s) {missing} that the test data lacks")
        raw = predictor.predict_proba(texts, {c: rows[c].tolist() for c in columns})
    else:
        raw = predictor.predict_proba(texts)
    probs = check_probabilities(raw, len(texts), len(classes), f"the {name} model")
    scores = score(labels, probs, positive=positive, bins=settings.calibration_bins)
    slices = []
    for kind, (values, order) in groups.items():
        slices += slice_scores(labels, probs, values, kind=kind, positive=positive, order=order)
    roc = None
    if scores.roc_auc is not None and len(classes) == 2:
        fpr, tpr, thresholds = roc_curve(labels, probs[:, positive], pos_label=positive)
        roc = {"fpr": fpr.tolist(), "tpr": tpr.tolist(), "thresholds": np.minimum(thresholds, 1.0).tolist()}
    return ModelEvaluation(
        name=name, probs=probs, scores=scores, slices=slices,
        calibration=calibration_bins(labels, probs, settings.calibration_bins),
        confusion=confusion_matrix(labels, probs.argmax(axis=1), labels=list(range(len(classes)))).tolist(),
        roc=roc,
    )


def git_commit() -> str | None:
    """The code's git commit: ``LABELGATE_GIT_COMMIT`` (set in the component image) or ``git rev-parse``."""
    commit = os.environ.get("LABELGATE_GIT_COMMIT")
    if commit:
        return commit
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() or None


def _read_text(path: str | None) -> str:
    if not path:
        return ""
    target = Path(path)
    return target.read_text(encoding="utf-8", errors="replace") if target.is_file() else ""


def run_evaluate(*, data_path: str, model_dir: str, lf_analysis_path: str | None,
                 validation_report_path: str | None, config_path: str, registry_uri: str, model_name: str,
                 min_test_accuracy: float, min_test_f1: float, champion_tolerance: float, seed: int,
                 report_path: str, blessing_path: str, lineage: dict[str, Any] | None = None) -> EvaluationOutcome:
    """Score the model on the gold test split, compare it with the champion, decide, and write the
    blessing JSON and the HTML run report (plots beside it)."""
    from labelgate.evaluation.report import write_report

    config = load_config(config_path)
    data = DataSettings.from_section(config["data"])
    settings = EvaluationSettings.from_section(config["evaluation"])
    classes = list(data.classes)
    positive = settings.positive_index(classes, getattr(config["evaluation"], "source", None))
    frame = read_table(data_path, "data")
    texts, labels = gold_rows(frame, text_column=data.text_column, label_column=data.label_column,
                              n_classes=data.cardinality, split=Split.TEST)
    test = frame[frame[SPLIT] == Split.TEST]
    lengths = test[data.text_column].fillna("").str.len().to_numpy()
    groups = {SOURCE: (test[SOURCE].astype(str).to_numpy(), None),
              "length": (length_bucket_names(lengths, settings.length_buckets),
                         length_bucket_order(settings.length_buckets))}

    challenger_model = load_predictor(model_dir)
    challenger = evaluate_predictor(name="challenger", predictor=challenger_model, texts=texts, labels=labels,
                                    groups=groups, classes=classes, positive=positive, settings=settings, rows=test)
    progress(Step.EVALUATE, f"test accuracy {challenger.scores.accuracy:.4f}, F1 {challenger.scores.f1:.4f} "
                         f"({settings.averaging(classes)}) on {len(texts)} rows")
    found = find_champion(registry_uri, model_name)
    champion_version_evaluated, champion_dir = found if found is not None else (None, None)
    champion, comparison = None, None
    if champion_dir is not None:
        champion = evaluate_predictor(name="champion", predictor=load_predictor(champion_dir), texts=texts,
                                      labels=labels, groups=groups, classes=classes, positive=positive,
                                      settings=settings, rows=test)
        comparison = paired_bootstrap(
            labels=labels, challenger=challenger.probs.argmax(axis=1), champion=champion.probs.argmax(axis=1),
            metric=settings.primary_metric, n_classes=len(classes), positive=positive,
            resamples=settings.bootstrap_resamples, confidence=settings.confidence, seed=seed)
        progress(Step.EVALUATE, f"champion test accuracy {champion.scores.accuracy:.4f}; {comparison.metric} "
                             f"difference CI [{comparison.lower:+.4f}, {comparison.upper:+.4f}]")
    decision = bless(scores=challenger.scores, min_accuracy=min_test_accuracy, min_f1=min_test_f1,
                      tolerance=champion_tolerance, comparison=comparison)
    progress(Step.EVALUATE, decision.reason)

    config_text = Path(config_path).read_text(encoding="utf-8")
    full_lineage = {
        **(lineage or {}),
        "model": {k: v for k, v in challenger_model.info.items() if k in ("lineage", "seed", "family")},
        "config_path": config_path, "config_sha256": hashlib.sha256(config_text.encode()).hexdigest(),
        "git_commit": git_commit(),
    }
    blessing = {
        "blessed": decision.blessed, "reason": decision.reason, "checks": decision.checks,
        "thresholds": {"min_test_accuracy": min_test_accuracy, "min_test_f1": min_test_f1,
                       "champion_tolerance": champion_tolerance},
        "primary_metric": settings.primary_metric, "classes": classes, "positive_class": classes[positive] if len(classes) == 2 else None,
        "averaging": settings.averaging(classes),
        "test_rows": len(texts), "challenger": challenger.scores.as_dict(),
        "champion": champion.scores.as_dict() if champion else None,
        "champion_version": champion_version_evaluated,
        "champion_model_dir": str(champion_dir) if champion_dir else None,
        "bootstrap": comparison.as_dict() if comparison else None, "seed": seed,
        "slices": challenger.slices, "confusion_matrix": challenger.confusion,
        "calibration": challenger.calibration,
        "champion_details": {"slices": champion.slices, "confusion_matrix": champion.confusion,
                             "calibration": champion.calibration} if champion else None,
        "model_name": model_name, "registry_uri": registry_uri,
        "lineage": full_lineage,
    }
    Path(blessing_path).parent.mkdir(parents=True, exist_ok=True)
    Path(blessing_path).write_text(json.dumps(blessing, indent=2, default=str))

    metrics = {f"test_{k}": float(v) for k, v in challenger.scores.as_dict().items() if v is not None and k != "n"}
    metrics["test_rows"] = float(len(texts))
    if champion is not None and comparison is not None:
        metrics.update({f"champion_test_{k}": float(v) for k, v in champion.scores.as_dict().items()
                        if v is not None and k != "n"})
        metrics.update({f"{comparison.metric}_difference": comparison.observed,
                        f"{comparison.metric}_difference_lower": comparison.lower,
                        f"{comparison.metric}_difference_upper": comparison.upper})
    metrics["blessed"] = float(decision.blessed)
    outcome = EvaluationOutcome(blessed=decision.blessed, reason=decision.reason, classes=classes,
                                challenger=challenger, champion=champion, bootstrap=comparison,
                                blessing=blessing, report_path=Path(report_path), metrics=metrics)
    write_report(outcome=outcome, report_path=Path(report_path), model_info=challenger_model.info,
                 history_path=Path(model_dir) / "history.json", lf_analysis=_read_text(lf_analysis_path),
                 validation_report=_read_text(validation_report_path), config_text=config_text)
    progress(Step.EVALUATE, f"run report: {report_path}")
    return outcome
