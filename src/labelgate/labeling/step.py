"""The weak_label step as the pipeline runs it: ingested Parquet + LFs in; votes, probabilities,
the fitted label model and the LF analysis out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from labelgate.config import load_config
from labelgate.contract import DEV, SPLIT, Split, probs_table
from labelgate.errors import LabelingError
from labelgate.ingest.settings import DataSettings
from labelgate.labeling.analysis import lf_summary, plot_coverage_accuracy, to_html, to_markdown, totals
from labelgate.labeling.applier import AppliedLabels, LFApplier, merge_label_matrices, shard_bounds
from labelgate.labeling.loader import lf_source_sha256, load_lfs
from labelgate.labeling.matrix import check_label_matrix, save_label_matrix
from labelgate.labeling.settings import LabelingSettings
from labelgate.run import Step, progress

PLOT_NAME = "lf_coverage_accuracy.png"


def shard_indices(n_shards: int) -> list[int]:
    """The shard indices the pipeline fans out over (one LF-application task each)."""
    if n_shards < 1:
        raise LabelingError(f"lf_shards must be at least 1, got {n_shards}")
    return list(range(n_shards))


def _applier(lf_module: str, config_path: str) -> tuple[LFApplier, int]:
    config = load_config(config_path)
    settings = LabelingSettings.from_section(config["labeling"])
    data = DataSettings.from_section(config["data"])
    k = data.cardinality
    applier = LFApplier(load_lfs(lf_module), cardinality=k, chunk_size=settings.chunk_size,
                        n_jobs=settings.n_jobs, fault_tolerant=settings.fault_tolerant, classes=data.classes)
    return applier, k


def run_apply_shard(*, data_path: str, lf_module: str, config_path: str, shard: int, n_shards: int,
                    out_path: str) -> dict[str, Any]:
    """Apply the LFs to shard ``shard`` of ``n_shards`` contiguous row ranges of the ingested table and
    save its label matrix (``.npy``); returns the metadata ``run_weak_label`` needs to merge shards."""
    import pyarrow.parquet as pq

    applier, _ = _applier(lf_module, config_path)
    start, stop = shard_bounds(pq.ParquetFile(data_path).metadata.num_rows, n_shards, shard)
    progress(Step.APPLY_LFS, f"shard {shard + 1}/{n_shards}: {len(applier.lfs)} LFs on rows {start}:{stop}")
    # Votes are range-checked as they are applied; coverage is judged on the merged matrix.
    applied = applier.apply_parquet(data_path, start=start, stop=stop)
    save_label_matrix(out_path, applied.matrix)
    return {"shard": shard, "n_shards": n_shards, "start": start, "stop": stop,
            "lf_names": applied.lf_names, "failures": applied.failures}


def merge_shards(paths: list[str], metadata: list[dict[str, Any]]) -> AppliedLabels:
    """The shards of :func:`run_apply_shard`, checked (same LFs, every row exactly once) and stacked."""
    if not paths:
        raise LabelingError("no label-matrix shards to merge")
    order = sorted(range(len(paths)), key=lambda i: int(metadata[i].get("shard", i)))
    names = [metadata[i].get("lf_names") for i in order]
    if any(n != names[0] for n in names):
        raise LabelingError(f"label-matrix shards were made by different LFs: {names}")
    expected = 0
    for i in order:
        if int(metadata[i].get("start", expected)) != expected:
            raise LabelingError(f"label-matrix shards do not tile the rows: shard {metadata[i].get('shard')} starts at "
                                f"{metadata[i].get('start')}, expected {expected}")
        expected = int(metadata[i].get("stop", expected))
    failures: dict[str, int] = {}
    for i in order:
        for name, count in (metadata[i].get("failures") or {}).items():
            failures[name] = failures.get(name, 0) + int(count)
    return AppliedLabels(matrix=merge_label_matrices([paths[i] for i in order]), lf_names=list(names[0]),
                         failures=failures)


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
    shard_paths: list[str] | None = None,
    shard_metadata: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Apply the LFs to every row (or merge the label-matrix shards the pipeline's fan-out made), fit
    the label model on the train rows (selecting on dev labels), and write every artifact. Returns
    ``{"label_matrix": meta, "probs": meta, "label_model": meta, "metrics": {name: number}}``."""
    config = load_config(config_path)
    data = DataSettings.from_section(config["data"])
    settings = LabelingSettings.from_section(config["labeling"])
    k = data.cardinality
    if shard_paths is not None:
        applied = merge_shards(shard_paths, shard_metadata or [{} for _ in shard_paths])
        progress(Step.WEAK_LABEL, f"merged {len(shard_paths)} label-matrix shard(s) of {len(applied.lf_names)} LFs")
    else:
        applier, _ = _applier(lf_module, config_path)
        progress(Step.WEAK_LABEL, f"applying {len(applier.lfs)} LFs from {lf_module}")
        applied = applier.apply_parquet(data_path)
    lfs = applied.lf_names
    L = check_label_matrix(applied.matrix, cardinality=k)
    frame = pd.read_parquet(data_path, columns=[SPLIT, DEV, data.label_column])
    if len(frame) != len(L):
        raise LabelingError(f"the label matrix has {len(L)} rows but {data_path} has {len(frame)}")
    gold = frame[data.label_column].astype("Int64").fillna(-1).to_numpy(dtype=np.int64)
    train = (frame[SPLIT] == Split.TRAIN).to_numpy()
    dev = frame[DEV].fillna(False).to_numpy(dtype=bool) & (gold >= 0)
    if not (L[train] != -1).any():
        raise LabelingError("no LF votes on any train row: the label model has nothing to learn from")

    from labelgate.labeling.model import LabelModel  # torch: imported after the LF workers have forked
    from labelgate.labeling.model.selection import explain_dev_choice

    model = LabelModel(cardinality=k, method=settings.label_model, device=settings.device,
                       max_iter=settings.max_iter, max_fit_rows=settings.max_fit_rows, seed=seed)
    select = dev.any() and settings.select_on_dev
    model.fit(L[train], L_dev=L[dev] if select else None, Y_dev=gold[dev] if dev.any() else None,
              class_balance=settings.class_balance)
    progress(Step.WEAK_LABEL, f"label model: {model.selected_method} (dev accuracy by candidate: {model.dev_scores})")
    why = explain_dev_choice(model.dev_selection)
    if why:
        progress(Step.WEAK_LABEL, f"label model: {why}")
    dependent = ", ".join(f"{lfs[i]} + {lfs[j]}" for i, j in model.contradicting_pairs)
    if dependent:
        progress(Step.WEAK_LABEL, f"label model: LF pairs that fire together more or less often than their classes "
                                  f"explain, left out of the moment fit: {dependent} (an LF that fires on another's "
                                  f"rows for a reason other than the class, as a short-comment rule on bare links, "
                                  f"is worth narrowing)")
    probs = model.predict_proba(L)
    covered = (L != -1).any(axis=1)

    save_label_matrix(label_matrix_path, L)
    table = probs_table(probs, covered)
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
        "LF pairs dependent beyond their classes": dependent or (
            "none found" if k == 2 and settings.label_model == "auto" else
            "not checked (two classes and label_model auto only)"),
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
    progress(Step.WEAK_LABEL, f"coverage {overall['coverage']:.3f} on train; dev accuracy {dev_acc:.3f}")
    return {
        "label_matrix": {"lf_names": applied.lf_names, "shape": list(L.shape), "dtype": "int8"},
        "probs": {"classes": list(data.classes), "covered": int(covered.sum()), "rows": len(L),
                  "lf_code_sha256": lf_source_sha256(lf_module)},
        "label_model": {"method": model.selected_method, "dev_scores": model.dev_scores,
                        "dev_selection": model.dev_selection, "agreement_scores": {n: v if v == v else None for n, v in model.agreement_scores.items()},
                        "class_balance": model.get_class_balance().tolist(),
                        "contradicting_pairs": [[lfs[i], lfs[j]] for i, j in model.contradicting_pairs]},
        "lf_analysis": {"plot": PLOT_NAME},
        "metrics": metrics,
    }
