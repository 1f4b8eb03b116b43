"""Detect and repair a table: detection, the attention imputer, candidate features, the repair model, and
the decision per dirty cell (repair when the calibrated probability reaches the threshold, else flag)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from labelgate.devices import torch_threads
from labelgate.errors import ConfigError, DataError
from labelgate.repair.candidates import N_EXTRA, CandidateFeaturizer, functional_dependencies
from labelgate.repair.detect import RARE_REASON, Detection, detect_errors, singleton_error_share
from labelgate.repair.imputer import AttentionImputer
from labelgate.repair.model import Features, RepairModel
from labelgate.repair.settings import RepairSettings
from labelgate.repair.table import EncodedTable, check_memory, check_mixed_types, encode
from labelgate.validation.constraints import DenialConstraint, missing_columns

CHANGE_COLUMNS = ("row", "column", "old", "new", "probability", "why")


@dataclass
class RepairResult:
    """The repaired table, the cells changed and the cells left flagged (both with probability and why)."""

    repaired: pd.DataFrame
    changes: pd.DataFrame
    flagged: pd.DataFrame
    metrics: dict[str, Any] = field(default_factory=dict)


def check_inputs(columns: list[str], n_rows: int, constraints: list[DenialConstraint],
                 settings: RepairSettings) -> None:
    """Every check that can fail before work starts: constraint and settings columns, memory."""
    known = pd.Index(columns)
    for dc in constraints:
        missing = missing_columns(pd.DataFrame(columns=known), dc)
        if missing:
            raise ConfigError(f"constraint on line {dc.line} ({dc.text}) names column(s) {missing} that the table "
                              f"does not have; columns: {list(columns)}")
    for key in ("columns", "exclude_columns"):
        unknown = sorted(set(getattr(settings, key)) - set(columns))
        if unknown:
            raise ConfigError(f"config repair.{key} names column(s) {unknown} that the table does not have; "
                              f"columns: {list(columns)}")
    unknown = sorted(set(settings.dictionaries) - set(columns))
    if unknown:
        raise ConfigError(f"config repair.dictionaries names column(s) {unknown} that the table does not have; "
                          f"columns: {list(columns)}")
    check_memory(n_rows, len(columns), settings.max_memory_gb)


def target_columns(table: EncodedTable, settings: RepairSettings) -> list[int]:
    names = settings.columns or tuple(c.name for c in table.columns)
    return [table.index(n) for n in names if n not in settings.exclude_columns
            and (table.columns[table.index(n)].codes > 0).any()]




def repair_frame(frame: pd.DataFrame, constraints: list[DenialConstraint], settings: RepairSettings,
                 dictionaries: dict[str, set[str]] | None = None) -> RepairResult:
    """Repair ``frame``; the result's table has the same columns and dtypes."""
    with torch_threads(settings.torch_threads):
        return _repair(frame, constraints, settings, dictionaries)


def _repair(frame: pd.DataFrame, constraints: list[DenialConstraint], settings: RepairSettings,
            dictionaries: dict[str, set[str]] | None) -> RepairResult:
    started = time.perf_counter()
    if frame.empty:
        raise DataError("the table to repair has no rows")
    check_inputs(list(frame.columns), len(frame), constraints, settings)
    check_mixed_types(frame)
    frame = frame.reset_index(drop=True)
    table = encode(frame, settings.continuous_min_distinct)
    targets = target_columns(table, settings)
    detection = detect_errors(frame, table, constraints, settings, targets, dictionaries)
    timings = {"detect_seconds": time.perf_counter() - started}
    n_rows, n_cols = table.n_rows, len(table.columns)
    # Cells suspected for a reason other than being null are unknown: neither inputs nor labels while the
    # models learn. A null alone is a value like any other (it may be structural, e.g. a score that is
    # missing for some measures), so null cells still teach the models when null is right.
    only_null = detection.reasons == "null"
    unknown = Detection(detection.rows[~only_null], detection.cols[~only_null],
                        detection.reasons[~only_null]).mask(n_rows, n_cols)
    rng = np.random.default_rng(settings.seed)
    held = rng.random(n_rows) < settings.holdout_fraction
    if held.sum() < 2 or (~held).sum() < 2:
        held = np.zeros(n_rows, dtype=bool)
    imputer_rows = np.flatnonzero(~held)
    if len(imputer_rows) > settings.imputer_max_rows:
        imputer_rows = rng.choice(imputer_rows, settings.imputer_max_rows, replace=False)
    mark = time.perf_counter()
    imputer = AttentionImputer(table, dim=settings.imputer_dim, heads=settings.imputer_heads,
                               max_categories=settings.max_categories, seed=settings.seed)
    imputer.fit(imputer_rows, unknown, steps=settings.imputer_steps, batch=settings.imputer_batch)
    timings["imputer_seconds"] = time.perf_counter() - mark
    mark = time.perf_counter()
    fds = functional_dependencies(constraints, table)
    dict_codes = {}
    for name, allowed in (dictionaries or {}).items():
        col = table.index(name)
        dict_codes[col] = np.array([v is not None and str(v) in allowed for v in table.columns[col].values],
                                   dtype=np.float32)
    featurizer = CandidateFeaturizer(table, fds, imputer, unknown, max_candidates=settings.max_candidates,
                                     per_source=settings.candidates_per_source, dictionaries=dict_codes)
    categorical = [c for c in targets if table.columns[c].kind == "categorical"]
    train_rows = np.flatnonzero(held) if held.any() else np.arange(n_rows)
    per_column = max(1, settings.max_training_cells // max(len(categorical), 1))
    parts, labels = [], []
    for col in categorical:
        rows = train_rows[~unknown[train_rows, col]]
        if len(rows) > per_column:
            rows = np.sort(rng.choice(rows, per_column, replace=False))
        if not len(rows):
            continue
        features = featurizer.featurize(col, rows)
        parts.append(features)
        labels.append(np.argmax(features.candidates == table.columns[col].codes[rows][:, None], axis=1))
    model = RepairModel(n_cols, N_EXTRA, len(fds), seed=settings.seed)
    fit = model.fit(Features.concat(parts), np.concatenate(labels), epochs=settings.model_epochs) if parts else {}
    timings["model_seconds"] = time.perf_counter() - mark
    mark = time.perf_counter()
    decisions = _decide_categorical(table, detection, featurizer, model, categorical)
    decisions += _decide_continuous(table, detection, imputer, unknown, held, targets)
    timings["repair_seconds"] = time.perf_counter() - mark
    repaired, changes, flagged = _apply(frame, table, decisions, settings.threshold, fds)
    metrics = {
        "rows": n_rows, "columns": n_cols, "cells_checked": n_rows * len(targets),
        "cells_detected": len(detection), "cells_repaired": len(changes), "cells_left_flagged": len(flagged),
        "functional_constraints": len(fds), "constraints": len(constraints), "threshold": settings.threshold,
        **{f"model_{k}": v for k, v in fit.items()}, **timings,
        "seconds": time.perf_counter() - started,
    }
    return RepairResult(repaired, changes, flagged, metrics)


def _decide_categorical(table, detection: Detection, featurizer: CandidateFeaturizer, model: RepairModel,
                        categorical: list[int]) -> list[pd.DataFrame]:
    out = []
    for col in categorical:
        pick = detection.cols == col
        if not pick.any():
            continue
        rows, reasons = detection.rows[pick], detection.reasons[pick]
        features = featurizer.featurize(col, rows)
        probs = model.predict(features)
        best = probs.argmax(axis=1)
        probability = probs[np.arange(len(rows)), best]
        # A cell suspected only for being rare: the model never trained on genuine singletons (they are all
        # suspects), so its probability assumes an error; weigh it by how many of this column's singletons
        # are errors at all.
        rare_only = reasons == RARE_REASON
        if rare_only.any():
            probability = np.where(rare_only, probability * singleton_error_share(table.columns[col].codes),
                                   probability)
        out.append(pd.DataFrame({
            "row": rows, "col": col, "old_code": table.columns[col].codes[rows],
            "new_code": features.candidates[np.arange(len(rows)), best],
            "probability": probability, "why": reasons}))
    return out


def _decide_continuous(table, detection: Detection, imputer: AttentionImputer, unknown: np.ndarray,
                       held: np.ndarray, targets: list[int]) -> list[pd.DataFrame]:
    """Continuous cells: the imputer's regression; probability = the share of held-out clean cells of the
    column it predicts within a tenth of the column's interquartile range."""
    out = []
    for col in targets:
        column = table.columns[col]
        pick = detection.cols == col
        if column.kind != "continuous" or not pick.any():
            continue
        rows, reasons = detection.rows[pick], detection.reasons[pick]
        q1, q3 = np.nanpercentile(column.numbers, [25, 75])
        tolerance = 0.1 * (q3 - q1) if q3 > q1 else 0.1 * (np.nanstd(column.numbers) or 1.0)
        check = np.flatnonzero(held & ~unknown[:, col] & ~np.isnan(column.numbers))
        within = 0.0
        if len(check):
            error = np.abs(imputer.predict_number(check, col, unknown) - column.numbers[check])
            within = float((error <= tolerance).mean())
        values = imputer.predict_number(rows, col, unknown)
        out.append(pd.DataFrame({"row": rows, "col": col, "old_number": column.numbers[rows], "new_number": values,
                                 "probability": within, "why": reasons}))
    return out


def _apply(frame: pd.DataFrame, table: EncodedTable, decisions: list[pd.DataFrame], threshold: float,
           fds: list) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Apply the repairs that reach the threshold. Within one row, a functional dependency's target and a
    key suspected only through that dependency get at most one repair (the likelier): changing both
    would only make a wrong pair consistent."""
    records = []
    for d in decisions:
        col = int(d["col"].iat[0])
        column = table.columns[col]
        if column.kind == "continuous":
            old, new = d["old_number"].to_numpy(), d["new_number"].to_numpy()
            differs = ~np.isclose(np.nan_to_num(old, nan=np.inf), new)
            if pd.api.types.is_integer_dtype(frame[column.name]):
                new = np.round(new)
        else:
            old, new = column.values[d["old_code"].to_numpy()], column.values[d["new_code"].to_numpy()]
            differs = d["old_code"].to_numpy() != d["new_code"].to_numpy()
        record = pd.DataFrame({"row": d["row"].to_numpy(), "column": column.name, "old": old, "new": new,
                               "probability": d["probability"].to_numpy(dtype=float), "why": d["why"].to_numpy()})
        record["col"] = col
        record["differs"] = differs
        records.append(record[differs])
    empty = pd.DataFrame({c: [] for c in CHANGE_COLUMNS})
    if not records:
        return frame.copy(), empty, empty.copy()
    proposals = pd.concat(records, ignore_index=True)
    apply = proposals["probability"].to_numpy() >= threshold
    # A key cell suspected only as the key of a violation competes with that violation's target cell.
    only_key = proposals["why"].map(lambda why: all(r.startswith("key of a violation") for r in why.split("; ")))
    for fd in fds:
        members = ((proposals["col"] == fd.target) | (proposals["col"].isin(fd.keys) & only_key)).to_numpy()
        members &= apply
        if members.sum() < 2:
            continue
        part = proposals[members]
        best = part.groupby("row")["probability"].transform("max").to_numpy()
        losers = part.index[(part["probability"].to_numpy() < best)
                            | part.duplicated(["row", "probability"]).to_numpy()]
        apply[losers] = False
        proposals.loc[losers, "why"] += f"; a likelier repair in this row settles constraint line {fd.line}"
    repaired = frame.copy()
    for col, part in proposals[apply].groupby("col"):
        name = table.columns[int(col)].name
        series = repaired[name].copy()
        values = pd.Series(part["new"].to_numpy(), dtype=object)
        values = values.where(values.notna(), None)
        if series.dtype != object:
            values = values.astype(series.dtype)
        series.iloc[part["row"].to_numpy()] = values.to_numpy()
        repaired[name] = series
    columns = list(CHANGE_COLUMNS)
    changes = proposals[apply][columns].sort_values(["row", "column"]).reset_index(drop=True)
    flagged = proposals[~apply][columns].sort_values(["row", "column"]).reset_index(drop=True)
    return repaired, changes, flagged
