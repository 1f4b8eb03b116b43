"""The train step as the pipeline runs it: the ingested table and the label model's probabilities in,
a model directory (weights + preprocessing) and training metrics out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from labelgate.config import load_config
from labelgate.errors import DataError, ModelError
from labelgate.ingest.settings import DataSettings
from labelgate.steps import progress
from labelgate.training.settings import TrainingSettings

PROB_PREFIX = "prob_"


def read_table(path: str | Path, what: str) -> pd.DataFrame:
    """Read a Parquet artifact, turning a missing or unreadable file into a DataError naming it."""
    try:
        return pd.read_parquet(path)
    except (FileNotFoundError, OSError, ValueError) as exc:
        raise DataError(f"cannot read the {what} table at {path}: {exc}") from exc


def prob_columns(probs: pd.DataFrame, n_classes: int) -> list[str]:
    """The ``prob_0..prob_{k-1}`` columns, checked against the config's classes."""
    names = [f"{PROB_PREFIX}{i}" for i in range(n_classes)]
    missing = [c for c in names + ["row", "covered"] if c not in probs.columns]
    if missing:
        raise ModelError(f"the probs table lacks column(s) {missing}; it has {list(probs.columns)}")
    extra = [c for c in probs.columns if c.startswith(PROB_PREFIX) and c not in names]
    if extra:
        raise ModelError(f"the probs table has {len(names) + len(extra)} class columns but the config "
                         f"names {n_classes} classes")
    return names


def training_rows(frame: pd.DataFrame, probs: pd.DataFrame, data: DataSettings, *, min_confidence: float = 0.0,
                  dev_weight: float = 0.0) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Texts, soft labels and weights of the train-split rows to learn from: rows that at least one LF
    covered and whose top probability reaches ``min_confidence``, plus (``dev_weight`` > 0) the dev rows
    with their gold labels one-hot and that weight."""
    columns = prob_columns(probs, data.cardinality)
    rows = probs["row"].to_numpy()
    if len(probs) != len(frame) or (len(rows) and (rows.min() < 0 or rows.max() >= len(frame))):
        raise ModelError(f"the probs table has {len(probs)} rows (row ids up to {rows.max() if len(rows) else '-'}) "
                         f"but the data has {len(frame)}: they come from different runs")
    aligned = probs.set_index("row").sort_index()
    values = aligned[columns].to_numpy(dtype=np.float64)
    train = frame["split"].to_numpy() == "train"
    keep = train & aligned["covered"].to_numpy(dtype=bool)
    if min_confidence > 0:
        keep &= ~(np.nan_to_num(values, nan=1.0).max(axis=1) < min_confidence)
    dev = train & frame["dev"].fillna(False).to_numpy(dtype=bool) & frame[data.label_column].notna().to_numpy()
    if dev_weight > 0:
        keep &= ~dev  # dev rows enter once, with their gold label
    targets, weights = values[keep], np.ones(int(keep.sum()))
    texts = frame.loc[keep, data.text_column].fillna("").astype(str).tolist()
    if dev_weight > 0:
        gold = frame.loc[dev, data.label_column].to_numpy(dtype=np.int64)
        texts += frame.loc[dev, data.text_column].fillna("").astype(str).tolist()
        targets = np.vstack([targets, np.eye(data.cardinality)[gold]])
        weights = np.concatenate([weights, np.full(len(gold), dev_weight)])
    return texts, targets, weights


def gold_rows(frame: pd.DataFrame, data: DataSettings, split: str) -> tuple[list[str], np.ndarray]:
    """Texts and gold labels of one split (valid or test); every row must carry its label."""
    part = frame[frame["split"] == split]
    if part.empty:
        raise ModelError(f"the {split} split is empty; it needs gold-labeled rows")
    labels = part[data.label_column]
    if labels.isna().any():
        raise ModelError(f"{int(labels.isna().sum())} row(s) of the {split} split lack a gold label")
    values = labels.to_numpy(dtype=np.int64)
    if values.min() < 0 or values.max() >= data.cardinality:
        raise ModelError(f"{split} labels must be 0..{data.cardinality - 1}; found {sorted(set(values.tolist()))}")
    return part[data.text_column].fillna("").astype(str).tolist(), values


def run_train(*, data_path: str, probs_path: str, config_path: str, seed: int, model_dir: str,
              lineage: dict[str, Any] | None = None) -> dict[str, Any]:
    """Train the configured model on ``probs`` for the rows of ``data``; save it to ``model_dir``.
    Returns the metrics the component logs (valid accuracy/log loss, epochs, rows, speed)."""
    from labelgate.training.trainer import train_classifier  # torch: only when training

    config = load_config(config_path)
    data = DataSettings.from_section(config["data"])
    settings = TrainingSettings.from_section(config["training"])
    frame = read_table(data_path, "data")
    probs = read_table(probs_path, "probs")
    texts, targets, weights = training_rows(frame, probs, data, min_confidence=settings.min_confidence,
                                            dev_weight=settings.dev_weight)
    valid_texts, valid_labels = gold_rows(frame, data, "valid")
    n_train = int((frame["split"] == "train").sum())
    progress("train", f"{len(texts)} rows to learn from ({n_train} train rows; min confidence "
                      f"{settings.min_confidence}, dev weight {settings.dev_weight}); {settings.family}, seed {seed}")

    def report(epoch: dict[str, float]) -> None:
        # Every 10th epoch on the terminal; each one is in history.json and the report's training curves.
        if epoch["epoch"] != 1 and epoch["epoch"] % 10:
            return
        progress("train", f"epoch {epoch['epoch']}: train loss {epoch['train_loss']:.4f}, valid log loss "
                          f"{epoch['valid_log_loss']:.4f}, valid accuracy {epoch['valid_accuracy']:.3f}")

    result = train_classifier(train_texts=texts, train_targets=targets, valid_texts=valid_texts,
                              valid_labels=valid_labels, classes=data.classes, settings=settings,
                              seed=seed, train_weights=weights, on_epoch=report)
    result.predictor.info.update({
        "settings": settings.model_dump(mode="json"),
        "seed": seed, "train_rows": len(texts), "valid_accuracy": result.valid_accuracy,
        "valid_log_loss": result.valid_log_loss, "lineage": lineage or {},
    })
    result.predictor.save(model_dir)
    (Path(model_dir) / "history.json").write_text(json.dumps(result.history, indent=2))
    progress("train", f"best epoch {result.best_epoch}/{result.epochs_run}: valid accuracy "
                      f"{result.valid_accuracy:.3f} on {result.device}")
    return {
        "valid_accuracy": result.valid_accuracy, "valid_log_loss": result.valid_log_loss,
        "best_epoch": result.best_epoch, "epochs_run": result.epochs_run, "train_rows": len(texts),
        "train_row_fraction": len(texts) / max(n_train, 1), "seconds_per_epoch": result.seconds_per_epoch,
        "examples_per_second": float(np.mean([h["examples_per_second"] for h in result.history])),
    }
