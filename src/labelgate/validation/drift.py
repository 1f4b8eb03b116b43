"""Data profiles and drift: what the champion was trained on versus what this run sees.

A profile (JSON) holds binned distributions of numeric columns and text lengths, category shares, each
labeling function's coverage and the label model's predicted class balance. The push step stores it with
the champion; the next run bins its own data on the champion's bin edges and compares: Jensen-Shannon
distance for binned distributions, L-infinity for shares, relative change for LF coverage. A collapsing
LF coverage or a flipped class balance is the weak-supervision signal that generic drift tools miss.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.spatial.distance import jensenshannon

from labelgate.contract import COVERED, class_columns
from labelgate.errors import DataError
from labelgate.validation.findings import Finding
from labelgate.validation.settings import ValidationSettings

PROFILE_VERSION = 1
OTHER = "__other__"


def build_profile(*, frame: pd.DataFrame, label_matrix: np.ndarray | None, lf_names: list[str] | None,
                  probs: pd.DataFrame | None, settings: ValidationSettings,
                  reference: dict[str, Any] | None = None,
                  series: dict[str, pd.Series] | None = None) -> dict[str, Any]:
    """Profile ``frame`` (plus LF votes and label-model probabilities). With ``reference``, numeric
    columns are binned on the reference's edges so that the two profiles can be compared. ``series``
    (from :func:`numeric_series`) saves recomputing text lengths when profiling the same frame twice."""
    profile: dict[str, Any] = {"version": PROFILE_VERSION, "rows": len(frame), "numeric": {}, "categorical": {}}
    missing = [c for c in (*settings.length_columns, *settings.numeric_columns, *settings.categorical_columns)
               if c not in frame.columns]
    if missing:  # reported by the gate as failed checks; the rest is still profiled
        profile["missing_columns"] = sorted(set(missing))
    if series is None:
        series = numeric_series(frame, settings)
    for name, values in series.items():
        edges = None
        if reference is not None and name in reference.get("numeric", {}):
            edges = reference["numeric"][name]["edges"]
        profile["numeric"][name] = _histogram(values, settings.bins, edges)
    for column in settings.categorical_columns:
        if column not in frame.columns:
            continue
        keep = None
        if reference is not None and column in reference.get("categorical", {}):
            keep = [k for k in reference["categorical"][column]["shares"] if k != OTHER]
        profile["categorical"][column] = _shares(frame[column], settings.top_categories, keep)
    if label_matrix is not None:
        profile["lf_coverage"] = lf_coverage(label_matrix, lf_names, len(frame))
    if probs is not None:
        profile["class_balance"] = class_balance(probs)
    return profile


def _histogram(values: pd.Series, bins: int, edges: list[float] | None) -> dict[str, Any]:
    numbers = values.dropna().to_numpy(dtype=float)
    if edges is None:
        edges = np.unique(np.quantile(numbers, np.linspace(0, 1, bins + 1)[1:-1])).tolist() if len(numbers) else []
    # Bins: (-inf, e0], (e0, e1], ..., (e_last, inf): every value lands somewhere.
    counts = np.bincount(np.searchsorted(np.asarray(edges, dtype=float), numbers, side="left"),
                         minlength=len(edges) + 1)
    return {
        "edges": [float(e) for e in edges],
        "counts": counts.astype(int).tolist(),
        "missing": int(len(values) - len(numbers)),
        "mean": float(numbers.mean()) if len(numbers) else None,
    }


def _shares(values: pd.Series, top: int, keep: list[str] | None) -> dict[str, Any]:
    counts = values.value_counts(dropna=True)  # count first, then name: str() on distinct values only
    counts.index = [str(v) for v in counts.index]
    counts = counts.groupby(level=0, sort=False).sum().sort_values(ascending=False, kind="stable")
    total = int(counts.sum())
    names = keep if keep is not None else list(counts.index[:top])
    shares = {name: (float(counts.get(name, 0)) / total if total else 0.0) for name in names}
    shares[OTHER] = max(0.0, 1.0 - sum(shares.values())) if total else 0.0
    return {"shares": shares, "missing": int(len(values) - total), "count": total}


def numeric_series(frame: pd.DataFrame, settings: ValidationSettings) -> dict[str, pd.Series]:
    """The numeric views a profile bins: text lengths (``<column>:length``) and numeric columns."""
    series: dict[str, pd.Series] = {}
    for column in settings.length_columns:
        if column in frame.columns:
            series[f"{column}:length"] = frame[column].astype("string").str.len()
    for column in settings.numeric_columns:
        if column in frame.columns:
            series[column] = pd.to_numeric(frame[column], errors="coerce")
    return series


def lf_coverage(label_matrix: np.ndarray, lf_names: list[str] | None, rows: int) -> dict[str, float]:
    """Fraction of rows on which each LF votes (does not abstain with -1), keyed by LF name."""
    if label_matrix.ndim != 2 or label_matrix.shape[0] != rows:
        raise DataError(f"the label matrix has shape {label_matrix.shape}; expected {rows} rows (one per data row)")
    names = list(lf_names) if lf_names else [f"lf_{i}" for i in range(label_matrix.shape[1])]
    if len(names) != label_matrix.shape[1]:
        raise DataError(f"the label matrix has {label_matrix.shape[1]} columns but {len(names)} LF names")
    covered = (label_matrix != -1).mean(axis=0) if rows else np.zeros(len(names))
    return {name: float(c) for name, c in zip(names, covered, strict=True)}


def class_balance(probs: pd.DataFrame) -> list[float]:
    """The label model's predicted class balance: mean probability per class over covered rows."""
    columns = class_columns(probs)
    if not columns:
        raise DataError(f"the label-model probabilities have no prob_<k> columns; columns: {list(probs.columns)}")
    values = probs[columns]
    if COVERED in probs.columns:
        values = values[probs[COVERED].astype(bool).to_numpy()]
    if values.empty:
        return [0.0] * len(columns)
    return [float(v) for v in values.mean(axis=0).to_numpy()]


def compare_profiles(reference: dict[str, Any], current: dict[str, Any], settings: ValidationSettings) -> list[Finding]:
    """One finding per compared distribution; ``current`` must be binned on ``reference``'s edges."""
    findings: list[Finding] = []
    severity = settings.drift_severity
    for name, ref in reference.get("numeric", {}).items():
        cur = current.get("numeric", {}).get(name)
        if cur is None or cur["edges"] != ref["edges"] or not sum(ref["counts"]) or not sum(cur["counts"]):
            continue
        distance = float(jensenshannon(np.asarray(ref["counts"], float), np.asarray(cur["counts"], float), base=2))
        label = name.replace(":length", " length (chars)")
        detail = (f"Jensen-Shannon distance {distance:.3f} (max {settings.max_js_distance:.2f}); "
                  f"mean {_fmt(ref['mean'])} -> {_fmt(cur['mean'])}")
        findings.append(Finding("drift", f"drift: {label}", severity, distance <= settings.max_js_distance, detail))
    for column, ref in reference.get("categorical", {}).items():
        cur = current.get("categorical", {}).get(column)
        if cur is None or not ref.get("count") or not cur.get("count"):
            continue
        keys = set(ref["shares"]) | set(cur["shares"])
        gaps = {k: abs(ref["shares"].get(k, 0.0) - cur["shares"].get(k, 0.0)) for k in keys}
        worst = max(gaps, key=lambda k: gaps[k])
        detail = (f"L-infinity distance {gaps[worst]:.3f} (max {settings.max_linf_distance:.2f}); "
                  f"share of {worst!r} {ref['shares'].get(worst, 0.0):.3f} -> {cur['shares'].get(worst, 0.0):.3f}")
        findings.append(Finding("drift", f"drift: {column} values", severity,
                                gaps[worst] <= settings.max_linf_distance, detail))
    ref_cov, cur_cov = reference.get("lf_coverage", {}), current.get("lf_coverage", {})
    for name in ref_cov:
        if name not in cur_cov:
            continue
        before, after = ref_cov[name], cur_cov[name]
        allowed = max(settings.min_lf_coverage_change, settings.max_lf_coverage_change * before)
        change = abs(after - before)
        # A collapse (the LF stopped firing) means the data or the LF broke: it has drift_severity.
        # A jump is reported as a warning: new data often simply holds more of what an LF looks for.
        collapsed = after < before
        detail = (f"coverage {before:.3f} -> {after:.3f}"
                  + (f" ({'collapsed' if collapsed else 'jumped'})" if change > allowed else "")
                  + f"; allowed change {allowed:.3f}")
        findings.append(Finding("drift", f"drift: LF '{name}' coverage", severity if collapsed else "warning",
                                change <= allowed, detail))
    if ref_cov and cur_cov:
        gone, new = sorted(set(ref_cov) - set(cur_cov)), sorted(set(cur_cov) - set(ref_cov))
        if gone or new:
            findings.append(Finding("drift", "drift: LF set changed", "warning", False,
                                    f"LFs not in this run: {gone or 'none'}; new LFs: {new or 'none'} "
                                    "(their coverage is not compared)"))
    ref_bal, cur_bal = reference.get("class_balance"), current.get("class_balance")
    if ref_bal and cur_bal and len(ref_bal) == len(cur_bal):
        shift = float(np.max(np.abs(np.asarray(ref_bal) - np.asarray(cur_bal))))
        detail = (f"predicted class balance {_balance(ref_bal)} -> {_balance(cur_bal)}; "
                  f"L-infinity shift {shift:.3f} (max {settings.max_class_balance_shift:.2f})")
        findings.append(Finding("drift", "drift: label model class balance", severity,
                                shift <= settings.max_class_balance_shift, detail))
    return findings


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def _balance(values: list[float]) -> str:
    return "[" + ", ".join(f"{v:.2f}" for v in values) + "]"
