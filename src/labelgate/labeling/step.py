"""The weak_label step as the pipeline runs it: ingested Parquet + LFs in; votes, probabilities,
the fitted label model and the LF analysis out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from labelgate.config import load_config
from labelgate.errors import LabelingError
from labelgate.ingest.dataset import DEV, SPLIT
from labelgate.ingest.settings import DataSettings
from labelgate.labeling.analysis import lf_summary, plot_coverage_accuracy, to_html, to_markdown, totals
from labelgate.labeling.applier import LFApplier
from labelgate.labeling.loader import lf_source_sha256, load_lfs
from labelgate.labeling.matrix import check_label_matrix, save_label_matrix
from labelgate.labeling.settings import LabelingSettings
from labelgate.steps import progress

PLOT_NAME = "lf_coverage_accuracy.png"


def run_weak_label(
    *,
    data_path: str,
    lf_module: str,
    config_path: str,
    seed: int,
    label_matrix_path: str,
    probs_path: str,
    label_model_path: str,
    analysis_md_path: str,
    analysis_html_path: str,
) -> dict[str, Any]:
    """Apply the LFs to every row, fit the label model on the train rows (selecting on dev labels),
    and write every artifact. Returns ``{"label_matrix": meta, "probs": meta, "label_model": meta,
    "metrics": {name: number}}`` for the component to attach."""
    config = load_config(config_path)
    data = DataSettings.from_section(config["data"])
    settings = LabelingSettings.from_section(config["labeling"])
    k = data.cardinality
    lfs = load_lfs(lf_module)
    progress("weak_label", f"applying {len(lfs)} LFs from {lf_module}")
    applier = LFApplier(lfs, cardinality=k, chunk_size=settings.chunk_size, n_jobs=settings.n_jobs,
                        fault_tolerant=settings.fault_tolerant)
    applied = applier.apply_parquet(data_path)
    L = check_label_matrix(applied.matrix, cardinality=k)
    frame = pd.read_parquet(data_path, columns=[SPLIT, DEV, data.label_column])
    if len(frame) != len(L):
        raise LabelingError(f"the label matrix has {len(L)} rows but {data_path} has {len(frame)}")
    gold = frame[data.label_column].astype("Int64").fillna(-1).to_numpy(dtype=np.int64)
    train = (frame[SPLIT] == "train").to_numpy()
    dev = frame[DEV].fillna(False).to_numpy(dtype=bool) & (gold >= 0)
    if not (L[train] != -1).any():
        raise LabelingError("no LF votes on any train row: the label model has nothing to learn from")

    from labelgate.labeling.model import LabelModel  # torch: imported after the LF workers have forked

    model = LabelModel(cardinality=k, method=settings.label_model, device=settings.device,
                       max_iter=settings.max_iter, max_fit_rows=settings.max_fit_rows, seed=seed)
    select = dev.any() and settings.select_on_dev
    model.fit(L[train], L_dev=L[dev] if select else None, Y_dev=gold[dev] if dev.any() else None,
              class_balance=settings.class_balance)
    progress("weak_label", f"label model: {model.selected_method} (dev accuracy by candidate: {model.dev_scores})")
    probs = model.predict_proba(L)
    covered = (L != -1).any(axis=1)

    save_label_matrix(label_matrix_path, L)
    table = pd.DataFrame({"row": np.arange(len(L), dtype=np.int64)})
    for c in range(k):
        table[f"prob_{c}"] = probs[:, c]
    table["covered"] = covered
    Path(probs_path).parent.mkdir(parents=True, exist_ok=True)
    table.to_parquet(probs_path, index=False)
    model.save(label_model_path)

    dev_y = np.where(dev, gold, -1)
    summary = lf_summary(L, applied.lf_names, y=dev_y, weights=model.get_weights(), failures=applied.failures)
    overall = totals(L[train])
    # The selected model's dev accuracy as selection saw it (held-out folds for the supervised candidate).
    in_sample = float((probs[dev].argmax(axis=1) == gold[dev]).mean()) if dev.any() else float("nan")
    dev_acc = float(model.dev_scores.get(model.selected_method, in_sample))
    header = {
        "rows": f"{len(L)} ({int(train.sum())} train, {int(dev.sum())} dev with gold labels)",
        "labeling functions": str(len(lfs)),
        "train coverage / overlap / conflict": " / ".join(f"{overall[n]:.3f}" for n in ("coverage", "overlap", "conflict")),
        "label model": model.selected_method,
        "dev accuracy by candidate": ", ".join(f"{n}={v:.3f}" for n, v in model.dev_scores.items()) or "no dev labels",
        "LF failures (fault-tolerant)": str(sum(applied.failures.values())),
    }
    png = plot_coverage_accuracy(summary, Path(analysis_html_path).parent / PLOT_NAME, classes=data.classes)
    Path(analysis_md_path).parent.mkdir(parents=True, exist_ok=True)
    Path(analysis_md_path).write_text(to_markdown(summary, header))
    Path(analysis_html_path).parent.mkdir(parents=True, exist_ok=True)
    Path(analysis_html_path).write_text(to_html(summary, header, png))

    metrics: dict[str, float] = {
        "n_lfs": float(len(lfs)),
        "train_coverage": overall["coverage"],
        "train_overlap": overall["overlap"],
        "train_conflict": overall["conflict"],
        "covered_rows": float(covered.sum()),
        "lf_failures": float(sum(applied.failures.values())),
    }
    if dev.any():
        metrics["label_model_dev_accuracy"] = dev_acc
        for name, value in model.dev_scores.items():
            metrics[f"dev_accuracy_{name}"] = float(value)
    progress("weak_label", f"coverage {overall['coverage']:.3f} on train; dev accuracy {dev_acc:.3f}")
    return {
        "label_matrix": {"lf_names": applied.lf_names, "shape": list(L.shape), "dtype": "int8"},
        "probs": {"classes": list(data.classes), "covered": int(covered.sum()), "rows": len(L),
                  "lf_code_sha256": lf_source_sha256(lf_module)},
        "label_model": {"method": model.selected_method, "dev_scores": model.dev_scores,
                        "class_balance": model.get_class_balance().tolist()},
        "lf_analysis": {"plot": PLOT_NAME},
        "metrics": metrics,
    }
