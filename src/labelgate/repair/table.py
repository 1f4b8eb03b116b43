"""The table as the repair models see it: every column as integer codes (0 is null), plus numbers for
continuous columns. Checks that fail before any work starts live here too (mixed types, memory)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from labelgate.errors import DataError

# Bytes of working memory per cell (codes, counts, candidate features): an upper estimate; bench/repair.py
# prints the measured peak next to it.
BYTES_PER_CELL = 400
# Continuous columns take part in co-occurrence as this many quantile bins.
BINS = 10


@dataclass
class Column:
    """One column: ``codes`` (int64, 0 = null, 1.. = ``values[code]``); continuous columns also keep
    ``numbers`` (float, NaN = null) and their codes are quantile bins, used only as a context."""

    name: str
    kind: str  # "categorical" or "continuous"
    codes: np.ndarray
    values: np.ndarray
    numbers: np.ndarray | None = None

    @property
    def size(self) -> int:
        """Number of codes including the null code 0."""
        return len(self.values)


@dataclass
class EncodedTable:
    columns: list[Column]
    n_rows: int

    def index(self, name: str) -> int:
        return [c.name for c in self.columns].index(name)


def check_mixed_types(frame: pd.DataFrame) -> None:
    """A column holding both numbers and text is an error: its values cannot be compared or repaired."""
    for name in frame.columns:
        column = frame[name]
        if column.dtype != object:
            continue
        kind = pd.api.types.infer_dtype(column, skipna=True)
        if kind in ("mixed", "mixed-integer"):
            types = sorted({type(v).__name__ for v in column.dropna().head(10_000)})
            raise DataError(f"column {name!r} mixes value types {types}; convert it to one type "
                            f"(e.g. all text) before repair")


def estimate_memory_gb(n_rows: int, n_columns: int) -> float:
    return n_rows * n_columns * BYTES_PER_CELL / 1e9


def check_memory(n_rows: int, n_columns: int, max_memory_gb: float) -> None:
    needed = estimate_memory_gb(n_rows, n_columns)
    if needed > max_memory_gb:
        raise DataError(f"repairing {n_rows:,} rows x {n_columns} columns needs about {needed:.1f} GB, more than "
                        f"repair.max_memory_gb = {max_memory_gb}; raise it or shard the table by a blocking key")


def encode(frame: pd.DataFrame, continuous_min_distinct: int) -> EncodedTable:
    """Factorize every column (hash-based); numeric columns with many distinct values are continuous."""
    columns = []
    for name in frame.columns:
        series = frame[name]
        numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
        if numeric and series.nunique(dropna=True) > continuous_min_distinct:
            numbers = series.to_numpy(dtype=float, na_value=np.nan)
            bins = pd.qcut(numbers, BINS, labels=False, duplicates="drop")
            codes = np.where(np.isnan(bins), 0, np.nan_to_num(bins) + 1).astype(np.int64)
            values = np.array([None] + [f"bin {i}" for i in range(int(codes.max()))], dtype=object)
            columns.append(Column(name, "continuous", codes, values, numbers))
            continue
        codes, uniques = pd.factorize(series.to_numpy(), use_na_sentinel=True)
        values = np.empty(len(uniques) + 1, dtype=object)
        values[0] = None
        values[1:] = np.asarray(uniques, dtype=object)
        columns.append(Column(name, "categorical", codes.astype(np.int64) + 1, values))
    return EncodedTable(columns, len(frame))


class CountIndex:
    """Counts of integer keys, looked up in bulk (a hash join done as sort + binary search)."""

    def __init__(self, keys: np.ndarray) -> None:
        self.keys, self.counts = np.unique(keys, return_counts=True)

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        if not len(self.keys):
            return np.zeros(keys.shape, dtype=np.int64)
        at = np.searchsorted(self.keys, keys)
        at = np.minimum(at, len(self.keys) - 1)
        return np.where(self.keys[at] == keys, self.counts[at], 0)


def combine(codes: list[np.ndarray]) -> np.ndarray:
    """One int64 code per distinct tuple of codes (dense, by factorizing step by step: no overflow)."""
    key = np.zeros(len(codes[0]), dtype=np.int64)
    for c in codes:
        key = pd.factorize(key * (int(c.max()) + 1) + c)[0].astype(np.int64)
    return key
