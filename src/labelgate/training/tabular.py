"""Tabular feature columns beside the text: numbers standardized (plus a missing flag), categories hashed
one-hot. The block is appended to the hashed n-gram features, so the same linear or embedding model reads
both, and repaired cells reach the model. The spec (column kinds, means, spreads) is saved with the model,
so serving computes exactly the features it was trained on; a value left out of a request counts as missing."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from labelgate.errors import ConfigError
from labelgate.training.features import bucket

MISSING = "\x00missing"
# Standardized numbers are clipped to this many standard deviations (one wild value must not dominate).
CLIP = 5.0


@dataclass(frozen=True)
class TabularSpec:
    """Numeric columns with the mean and standard deviation they are scaled by, categorical columns, and the
    hashed width of the categorical block (``2**hash_bits`` columns)."""

    numeric: tuple[tuple[str, float, float], ...]
    categorical: tuple[str, ...]
    hash_bits: int

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(name for name, _, _ in self.numeric) + self.categorical

    @property
    def width(self) -> int:
        return 2 * len(self.numeric) + (1 << self.hash_bits if self.categorical else 0)

    def to_dict(self) -> dict[str, Any]:
        return {"numeric": [{"name": n, "mean": m, "std": s} for n, m, s in self.numeric],
                "categorical": list(self.categorical), "hash_bits": self.hash_bits}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> TabularSpec:
        return cls(numeric=tuple((str(c["name"]), float(c["mean"]), float(c["std"])) for c in raw["numeric"]),
                   categorical=tuple(str(c) for c in raw["categorical"]), hash_bits=int(raw["hash_bits"]))


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


class TabularFeatures:
    """Columns ``[z_0, missing_0, z_1, missing_1, ..., hashed categories]``: ``z`` = (x - mean) / std clipped
    to +-5 (0 when missing), ``missing`` = 1 when the number is missing; a category sets the bucket of
    ``"<column>=<value>"`` (a missing one its own ``<column>=`` bucket)."""

    def __init__(self, spec: TabularSpec) -> None:
        self.spec = spec

    @property
    def columns(self) -> tuple[str, ...]:
        return self.spec.columns

    @property
    def width(self) -> int:
        return self.spec.width

    @classmethod
    def fit(cls, frame: pd.DataFrame, columns: Sequence[str], *, hash_bits: int) -> TabularFeatures:
        """Learn the kinds (numbers, or text that is all numbers -> numeric; anything else -> categorical),
        means and spreads from the training rows of ``frame``."""
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise ConfigError(f"config training.feature_columns names column(s) {missing} that the data does not "
                              f"have; columns: {[str(c) for c in frame.columns]}")
        numeric, categorical = [], []
        for name in columns:
            values = _numbers(frame[name])
            if values is not None:
                mean = float(np.nanmean(values)) if np.isfinite(values).any() else 0.0
                std = float(np.nanstd(values)) if np.isfinite(values).any() else 0.0
                numeric.append((str(name), mean, std if std > 0 else 1.0))
            else:
                categorical.append(str(name))
        return cls(TabularSpec(numeric=tuple(numeric), categorical=tuple(categorical), hash_bits=hash_bits))

    def check(self, records: Sequence[Mapping[str, Any]], where: str = "instances") -> None:
        """Raise ValueError naming the first field that is not a feature column or not a usable value."""
        known = set(self.columns)
        numeric = {name for name, _, _ in self.spec.numeric}
        for i, record in enumerate(records):
            unknown = sorted(set(record) - known)
            if unknown:
                raise ValueError(f"{where}[{i}] has field(s) {unknown} the model does not use; its feature "
                                 f"columns are {sorted(known)}")
            for name, value in record.items():
                if name in numeric and not (_is_missing(value) or _number(value) is not None):
                    raise ValueError(f"{where}[{i}].{name} must be a number or null, got {value!r}")
                if not _is_missing(value) and not isinstance(value, str | int | float | bool):
                    raise ValueError(f"{where}[{i}].{name} must be a string, number, boolean or null, "
                                     f"got {type(value).__name__}")

    def transform(self, values: Mapping[str, Sequence[Any]] | pd.DataFrame | None, n_rows: int) -> sp.csr_matrix:
        """The block for ``n_rows`` rows; ``values`` maps column -> one value per row (a column left out is
        missing in every row)."""
        rows: list[np.ndarray] = []
        cols: list[np.ndarray] = []
        data: list[np.ndarray] = []
        given = values if values is not None else {}
        every = np.arange(n_rows)
        for j, (name, mean, std) in enumerate(self.spec.numeric):
            column = given[name] if name in given else None
            numbers = np.full(n_rows, np.nan) if column is None else np.array(
                [np.nan if _is_missing(v) else (_number(v) if _number(v) is not None else np.nan) for v in column],
                dtype=float)
            if len(numbers) != n_rows:
                raise ValueError(f"feature column {name!r} has {len(numbers)} values for {n_rows} rows")
            absent = np.isnan(numbers)
            z = np.clip((np.nan_to_num(numbers, nan=mean) - mean) / std, -CLIP, CLIP)
            rows += [every, every[absent]]
            cols += [np.full(n_rows, 2 * j), np.full(int(absent.sum()), 2 * j + 1)]
            data += [z, np.ones(int(absent.sum()))]
        offset, n_buckets = 2 * len(self.spec.numeric), 1 << self.spec.hash_bits
        for name in self.spec.categorical:
            column = given[name] if name in given else [None] * n_rows
            if len(column) != n_rows:
                raise ValueError(f"feature column {name!r} has {len(column)} values for {n_rows} rows")
            keys = [f"{name}={'' if _is_missing(v) else _category(v)}" for v in column]
            cache: dict[str, int] = {}
            rows.append(every)
            cols.append(np.array([offset + cache.setdefault(k, bucket(k, n_buckets)) for k in keys], dtype=np.int64))
            data.append(np.ones(n_rows))
        if not rows:
            return sp.csr_matrix((n_rows, self.width), dtype=np.float32)
        return sp.csr_matrix((np.concatenate(data).astype(np.float32), (np.concatenate(rows), np.concatenate(cols))),
                             shape=(n_rows, self.width))


def _numbers(series: pd.Series) -> np.ndarray | None:
    """The column as floats when it is numeric: a numeric dtype, or text whose every value parses as a number
    (ingest reads CSV cells as text); None for a categorical column (booleans included)."""
    if pd.api.types.is_bool_dtype(series):
        return None
    if pd.api.types.is_numeric_dtype(series):
        return series.to_numpy(dtype=float, na_value=np.nan)
    present = series.dropna()
    if present.empty or not all(isinstance(v, str) for v in present):
        return None
    parsed = pd.to_numeric(present, errors="coerce")
    if parsed.isna().any():
        return None
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _category(value: Any) -> str:
    """A category's text: integral floats as integers, so ``3`` and ``3.0`` (a column read with nulls) agree."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)
