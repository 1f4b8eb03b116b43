"""Error detection: which cells may be wrong, and why. Every reason is cheap and general: denial-constraint
suspects (from the project's hash-join checker), nulls, values seen once in a column whose values repeat,
numbers far outside their column's robust spread, values missing from a given dictionary."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from labelgate.repair.settings import RepairSettings
from labelgate.repair.table import EncodedTable
from labelgate.validation.constraints import DenialConstraint, check_constraints

RARE_REASON = "value seen once in a column whose values repeat"


@dataclass
class Detection:
    """Dirty cells as parallel arrays (row, column index) with their reasons joined by '; '."""

    rows: np.ndarray
    cols: np.ndarray
    reasons: np.ndarray

    def mask(self, n_rows: int, n_cols: int) -> np.ndarray:
        out = np.zeros((n_rows, n_cols), dtype=bool)
        out[self.rows, self.cols] = True
        return out

    def __len__(self) -> int:
        return len(self.rows)


def detect_errors(frame: pd.DataFrame, table: EncodedTable, constraints: list[DenialConstraint],
                  settings: RepairSettings, targets: list[int],
                  dictionaries: dict[str, set[str]] | None = None) -> Detection:
    """Flag suspicious cells in the ``targets`` columns (indices into ``table.columns``)."""
    found: list[pd.DataFrame] = []

    def add(rows: np.ndarray, col: int, reason: str) -> None:
        if len(rows):
            found.append(pd.DataFrame({"row": rows.astype(np.int64), "col": col, "reason": reason}))

    wanted = set(targets)
    # Reasons are collected one (column, reason) frame at a time, then patterns are dropped per frame.
    if constraints:
        for result in check_constraints(frame, constraints, max_examples=0):
            line = result.constraint.line
            keys = [p.left.attr for p in result.constraint.predicates
                    if p.op == "EQ" and p.is_join and p.left.attr == p.right.attr]
            for attr, rows in result.suspects.items():
                if table.index(attr) in wanted:
                    add(np.asarray(rows), table.index(attr), f"violates constraint line {line}")
                # The minority value may be right and its key wrong (a swapped key): the key cells of the
                # suspect rows are candidates too; the repair model decides which cell, if any, changes.
                for key in keys:
                    if key != attr and table.index(key) in wanted:
                        add(np.asarray(rows), table.index(key), f"key of a violation of constraint line {line}")
    for col in targets:
        column = table.columns[col]
        codes = column.codes
        if settings.detect_nulls and (codes > 0).any():
            add(np.flatnonzero(codes == 0), col, "null")
        if column.kind == "continuous":
            numbers = column.numbers
            median = np.nanmedian(numbers)
            spread = 1.4826 * np.nanmedian(np.abs(numbers - median))
            if spread > 0:
                z = np.abs(numbers - median) / spread
                add(np.flatnonzero(np.nan_to_num(z) > settings.outlier_z), col,
                    f"far outside the column's distribution (robust z > {settings.outlier_z:g})")
            continue
        counts = np.bincount(codes, minlength=column.size)
        known = codes > 0
        if settings.detect_rare and known.any():
            single = known & (counts[codes] == 1)
            if single.sum() <= settings.max_singleton_fraction * known.sum():
                add(np.flatnonzero(single), col, RARE_REASON)
        if dictionaries and column.name in dictionaries:
            allowed = dictionaries[column.name]
            outside = np.array([v is not None and str(v) not in allowed for v in column.values])
            add(np.flatnonzero(outside[codes]), col, "not in the column's dictionary")
    found = [_drop_patterns(cells, table, settings.pattern_significance) if cells["reason"].iat[0] != "null"
             else cells for cells in found]
    found = [cells for cells in found if len(cells)]
    if not found:
        empty = np.array([], dtype=np.int64)
        return Detection(empty, empty, np.array([], dtype=object))
    cells = pd.concat(found, ignore_index=True)
    grouped = cells.groupby(["row", "col"], sort=True)["reason"].agg(lambda r: "; ".join(dict.fromkeys(r)))
    index = grouped.index
    return Detection(index.get_level_values(0).to_numpy(np.int64), index.get_level_values(1).to_numpy(np.int64),
                     grouped.to_numpy(dtype=object))


def _drop_patterns(cells: pd.DataFrame, table: EncodedTable, significance: float) -> pd.DataFrame:
    """Keep cells whose flags look like independent errors. When every row sharing some other column's
    value is flagged in this column for the same reason, and independent errors at the column's flag rate
    would do that with probability below ``significance`` (rate ** rows), the flags follow a pattern of the
    data (a constraint that misses a key, values unique to one group) and are dropped."""
    col = int(cells["col"].iat[0])
    rows = cells["row"].to_numpy()
    flagged = np.zeros(table.n_rows, dtype=bool)
    flagged[rows] = True
    rate = flagged.mean()
    if rate <= 0 or rate >= 1:
        return cells
    keep = np.ones(len(rows), dtype=bool)
    for other, column in enumerate(table.columns):
        if other == col:
            continue
        codes = column.codes
        size = np.bincount(codes, minlength=column.size)
        hits = np.bincount(codes[flagged], minlength=column.size)
        groups = max(int((size[1:] >= 2).sum()), 1)  # tested at once: Bonferroni
        min_rows = max(int(np.ceil(np.log(significance / groups) / np.log(rate))), 2)
        pattern = (hits == size) & (size >= min_rows)
        pattern[0] = False  # nulls are not a group
        if pattern.any():
            keep &= ~pattern[codes[rows]]
    return cells[keep]


def singleton_error_share(codes: np.ndarray, max_count: int = 10) -> float:
    """The share of a column's singletons that are errors rather than genuine rare values, from the column's
    own count-of-counts: genuine values follow a smooth frequency tail, so the number of values seen once is
    extrapolated from those seen 2..``max_count`` times (a power law fitted in log-log space, Good-Turing
    style); singletons beyond that are errors. 1.0 when the tail is too thin to fit (no genuine tail seen)."""
    counts = np.bincount(codes[codes > 0])
    counts = counts[counts > 0]
    n_r = np.bincount(counts, minlength=max_count + 1)
    n1 = n_r[1]
    ranks = np.flatnonzero(n_r[2:max_count + 1]) + 2
    if n1 == 0 or len(ranks) < 2:
        return 1.0
    slope, intercept = np.polyfit(np.log(ranks), np.log(n_r[ranks]), 1)
    expected = float(np.exp(intercept))  # the fitted line at r = 1
    return float(np.clip(1.0 - expected / n1, 0.0, 1.0))
