"""The artifact contract between steps: the columns and files one step writes and another reads.

Every stage imports these names instead of spelling the literals, and reads the shared tables through the
readers here, so a step never reaches into another stage's modules to learn a format.

- ``data`` (ingest): the raw columns plus :data:`SOURCE` (file name), :data:`SPLIT` (one of
  :class:`Split`) and :data:`DEV` (bool: a train row whose gold label is kept for LF analysis and
  label-model selection). Train rows carry no label except dev rows.
- ``probs`` (weak_label): :data:`ROW` (position in ``data``), ``prob_0..prob_{k-1}``, :data:`COVERED`
  (any LF voted).
- ``profile`` (validate): the JSON data profile stored with a champion as :data:`PROFILE_FILE`.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum
from pathlib import Path

import numpy as np
import pandas as pd

from labelgate.errors import DataError, ModelError

# Columns ingest adds to the raw data.
SOURCE = "source"
SPLIT = "split"
DEV = "dev"


class Split(StrEnum):
    TRAIN = "train"
    VALID = "valid"
    TEST = "test"


SPLITS: tuple[str, ...] = tuple(s.value for s in Split)

# The roles a raw row can be given (a file, a glob or a column): dev rows are train rows whose gold label
# is kept (``DEV``), for LF accuracies and the label model's selection.
ROLES: tuple[str, ...] = ("train", "dev", "valid", "test")

# The repair step's entry in its ``repaired`` table's metadata (beside ingest's): on or off, the SHA-256 of the
# ingested and of the repaired table, and the cells changed; the model's lineage carries it to the registry.
REPAIR_METADATA = "repair"

# Columns of the label model's probabilities table.
ROW = "row"
COVERED = "covered"
PROB_PREFIX = "prob_"

# The validation profile, as the validate step writes it and push stores it with a version.
PROFILE_FILE = "profile.json"

# What the train step writes beside the weights, so that the model (and the registered bundle, which holds
# the model directory) carries the LFs and the config it was trained with: monitoring runs those LFs.
LF_MODULE_FILE = "lfs.py"
TRAINING_CONFIG_FILE = "training_config.yaml"


def prob_column(k: int) -> str:
    """The probability column of class index ``k``."""
    return f"{PROB_PREFIX}{k}"


def read_table(path: str | Path, what: str, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a Parquet artifact, turning a missing or unreadable file into a DataError naming it."""
    try:
        return pd.read_parquet(path, columns=columns)
    except (FileNotFoundError, OSError, ValueError) as exc:
        raise DataError(f"cannot read the {what} table at {path}: {exc}") from exc


def probs_table(probs: np.ndarray, covered: np.ndarray) -> pd.DataFrame:
    """The ``probs`` artifact's table for an ``n x k`` probability matrix, in data order."""
    table = pd.DataFrame({ROW: np.arange(len(probs), dtype=np.int64)})
    for c in range(probs.shape[1]):
        table[prob_column(c)] = probs[:, c]
    table[COVERED] = np.asarray(covered, dtype=bool)
    return table


def class_columns(probs: pd.DataFrame) -> list[str]:
    """The ``prob_<k>`` columns of a probs table, in class order."""
    found = [c for c in probs.columns if str(c).startswith(PROB_PREFIX) and str(c)[len(PROB_PREFIX):].isdigit()]
    return sorted(found, key=lambda c: int(str(c)[len(PROB_PREFIX):]))


def aligned_probs(probs: pd.DataFrame, n_rows: int, n_classes: int | None = None) -> pd.DataFrame:
    """The probs table checked against the data it belongs to and put in data order (by :data:`ROW`).
    ``n_classes`` (when given) must match its class columns. Raises ModelError naming the mismatch."""
    missing = [c for c in (ROW, COVERED) if c not in probs.columns]
    columns = class_columns(probs)
    if n_classes is not None:
        missing += [prob_column(k) for k in range(n_classes) if prob_column(k) not in columns]
    if missing:
        raise ModelError(f"the probs table lacks column(s) {missing}; it has {list(probs.columns)}")
    if n_classes is not None and len(columns) != n_classes:
        raise ModelError(f"the probs table has {len(columns)} class columns but the config names {n_classes} classes")
    rows = probs[ROW].to_numpy()
    if len(probs) != n_rows or not np.array_equal(np.sort(rows), np.arange(n_rows)):
        raise ModelError(f"the probs table has {len(probs)} rows (row ids up to {rows.max() if len(rows) else '-'}) "
                         f"but the data has {n_rows}: they come from different runs")
    return probs.sort_values(ROW, kind="stable").reset_index(drop=True)


def gold_rows(frame: pd.DataFrame, *, text_column: str, label_column: str, n_classes: int,
              split: str) -> tuple[list[str], np.ndarray]:
    """Texts and gold labels of one split (valid or test); every row must carry a label in ``0..k-1``."""
    part = frame[frame[SPLIT] == split]
    if part.empty:
        raise ModelError(f"the {split} split is empty; it needs gold-labeled rows")
    labels = part[label_column]
    if labels.isna().any():
        raise ModelError(f"{int(labels.isna().sum())} row(s) of the {split} split lack a gold label")
    values = labels.to_numpy(dtype=np.int64)
    if values.min() < 0 or values.max() >= n_classes:
        raise ModelError(f"{split} labels must be 0..{n_classes - 1}; found {sorted(set(values.tolist()))}")
    return part[text_column].fillna("").astype(str).tolist(), values


def file_sha256(path: str | Path) -> str | None:
    """The SHA-256 of a file for lineage records; None when it cannot be read (the step reports why)."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None
