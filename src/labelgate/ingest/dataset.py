"""Assemble the raw files into one typed table, fingerprint it, and split it for weak supervision."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from labelgate.contract import DEV, SOURCE, SPLIT, SPLITS, Split
from labelgate.errors import DataError
from labelgate.ingest.readers import RawFile, list_data_files, read_file
from labelgate.ingest.settings import DataSettings, SplitSettings


@dataclass(frozen=True)
class IngestResult:
    """The split table plus what lineage needs: per-file hashes and one fingerprint over them."""

    frame: pd.DataFrame
    files: dict[str, str]
    fingerprint: str

    def split_counts(self) -> dict[str, int]:
        counts = {name: int((self.frame[SPLIT] == name).sum()) for name in SPLITS}
        counts[DEV] = int(self.frame[DEV].sum())
        return counts


def load_raw(uri: str, data: DataSettings) -> tuple[pd.DataFrame, dict[str, str]]:
    """Read every data file under ``uri``; check its columns and types; add a ``source`` column."""
    frames, hashes = [], {}
    for file_uri in list_data_files(uri):
        raw = read_file(file_uri)
        frames.append(_typed(raw, data))
        hashes[raw.name] = raw.sha256
    frame = pd.concat(frames, ignore_index=True)
    return frame, hashes


def _typed(raw: RawFile, data: DataSettings) -> pd.DataFrame:
    frame = raw.frame
    required = [data.id_column, data.text_column, data.label_column]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DataError(
            f"{raw.uri}: missing column(s) {missing}; the file has {list(frame.columns)}. "
            "Rename the columns or set data.id_column/text_column/label_column in the config."
        )
    frame = frame.copy()
    frame[data.id_column] = frame[data.id_column].astype("string")
    frame[data.text_column] = frame[data.text_column].astype("string")
    frame[data.label_column] = _labels(raw.uri, frame[data.label_column], data)
    frame.insert(0, SOURCE, raw.name)
    return frame


def _labels(uri: str, column: pd.Series, data: DataSettings) -> pd.Series:
    numeric = pd.to_numeric(column, errors="coerce")
    bad = column.notna() & (numeric.isna() | (numeric % 1 != 0))
    if bad.any():
        rows = [int(i) + 2 for i in np.flatnonzero(bad.to_numpy())[:3]]  # +2: 1-based, after the header
        examples = list(column[bad].astype(str).head(3))
        raise DataError(
            f"{uri}: column '{data.label_column}' must hold class indices 0..{data.cardinality - 1}; "
            f"found {examples} (rows {rows})"
        )
    return numeric.astype("Int64")


def fingerprint(hashes: dict[str, str]) -> str:
    """One hash over the sorted (file name, content hash) pairs: equal data gives an equal fingerprint."""
    digest = hashlib.sha256()
    for name in sorted(hashes):
        digest.update(f"{name}\0{hashes[name]}\n".encode())
    return digest.hexdigest()


def split(frame: pd.DataFrame, data: DataSettings, settings: SplitSettings) -> pd.DataFrame:
    """Split as Snorkel's spam tutorial: holdout files -> valid/test (stratified), the rest -> train with
    gold labels hidden except on a ``dev`` sample. Returns a copy with ``split`` and ``dev`` columns."""
    frame = frame.copy()
    holdout = frame[SOURCE].isin(settings.holdout_sources)
    missing = sorted(set(settings.holdout_sources) - set(frame[SOURCE]))
    if missing:
        raise DataError(f"split.holdout_sources names file(s) not in the data: {missing}; "
                        f"found {sorted(frame[SOURCE].unique())}")
    if holdout.all():
        raise DataError("every file is a holdout source: nothing is left to train on")
    held = frame[holdout]
    need = settings.valid_size + settings.test_size
    if len(held) < need:
        raise DataError(f"the holdout files have {len(held)} rows; valid_size + test_size need {need}")
    if held[data.label_column].isna().any():
        raise DataError(f"the holdout files need a gold '{data.label_column}' on every row (valid/test are gold)")
    held = held.sample(n=need, random_state=settings.seed) if len(held) > need else held
    valid_idx, test_idx = train_test_split(
        held.index.to_numpy(), test_size=settings.test_size, train_size=settings.valid_size,
        random_state=settings.seed, stratify=held[data.label_column].to_numpy(),
    )
    frame[SPLIT] = "unused"
    frame.loc[~holdout, SPLIT] = Split.TRAIN.value
    frame.loc[valid_idx, SPLIT] = Split.VALID.value
    frame.loc[test_idx, SPLIT] = Split.TEST.value
    frame = frame[frame[SPLIT] != "unused"].copy()

    train_idx = frame.index[frame[SPLIT] == Split.TRAIN]
    rng = np.random.default_rng(settings.seed)
    labeled = [i for i in train_idx if pd.notna(frame.at[i, data.label_column])]
    dev_size = min(settings.dev_size, len(labeled))
    dev_idx = rng.choice(np.asarray(labeled), size=dev_size, replace=False) if dev_size else []
    frame[DEV] = False
    frame.loc[dev_idx, DEV] = True
    # Gold labels on train rows are hidden from labeling: only the dev sample keeps them.
    frame.loc[(frame[SPLIT] == Split.TRAIN) & ~frame[DEV], data.label_column] = pd.NA
    return frame.reset_index(drop=True)


def ingest(uri: str, data: DataSettings, settings: SplitSettings) -> IngestResult:
    """Read, type-check, fingerprint and split the raw data under ``uri``."""
    frame, hashes = load_raw(uri, data)
    return IngestResult(frame=split(frame, data, settings), files=hashes, fingerprint=fingerprint(hashes))
