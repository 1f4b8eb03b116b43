"""Profile raw files for `labelgate init`: columns, types, text lengths, class shares, nulls, duplicates,
and which role each file would get."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from labelgate.errors import DataError
from labelgate.ingest.dataset import file_role, is_csv, label_name, near_columns
from labelgate.ingest.readers import list_data_files, read_file


@dataclass
class DataProfile:
    """What `labelgate init` found in the data."""

    files: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> rows, role, labeled
    columns: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> dtype, nulls, files
    rows: int = 0
    text_lengths: dict[str, float] = field(default_factory=dict)
    class_counts: dict[str, int] = field(default_factory=dict)
    duplicate_ids: int = 0
    duplicate_texts: int = 0
    conflicting_ids: int = 0
    keywords: dict[str, list[str]] = field(default_factory=dict)
    label_first_seen: dict[str, str] = field(default_factory=dict)  # label -> "file line N" (CSV) / "file row N"

    @property
    def labeled_rows(self) -> int:
        return sum(self.class_counts.values())


def read_all(paths: list[str], encoding: str | None = None) -> list[tuple[str, pd.DataFrame]]:
    """Every data file under each path (file, folder or glob), read as labelgate reads it (CSV/TSV files in
    ``encoding``, as ``data.encoding``)."""
    found: list[str] = []
    for path in paths:
        found.extend(f for f in list_data_files(path) if f not in found)
    return [(raw.name, raw.frame) for raw in (read_file(f, encoding) for f in found)]


def profile(tables: list[tuple[str, pd.DataFrame]], *, text_column: str, label_column: str | None,
            id_column: str | None, roles: dict[str, str]) -> DataProfile:
    """Profile the tables; ``roles`` maps a file name to its role (from ``--split``), else the file name."""
    result = DataProfile()
    for name, frame in tables:
        for column, flag in ((text_column, "--text-column"), (id_column, "--id-column")):
            if column and column not in frame.columns:
                raise DataError(f"{name}: no column '{column}' ({flag}); the file has {list(frame.columns)}."
                                f"{near_columns([column], frame)} Pass the file's column name, or rename the column.")
        labeled = bool(label_column and label_column in frame.columns and frame[label_column].notna().any())
        result.files[name] = {"rows": len(frame), "role": roles.get(name) or file_role(name) or "pooled",
                              "labeled": labeled,
                              "labeled_rows": int(frame[label_column].notna().sum()) if labeled else 0}
        if label_column and label_column in frame.columns:
            for position, value in enumerate(frame[label_column].tolist()):
                if pd.notna(value):
                    result.label_first_seen.setdefault(label_name(value), _where(name, position))
        for column in frame.columns:
            info = result.columns.setdefault(str(column), {"dtype": _kind(frame[column]), "nulls": 0, "files": 0})
            info["nulls"] += int(frame[column].isna().sum())
            info["files"] += 1
    frame = pd.concat([f for _, f in tables], ignore_index=True)
    result.rows = len(frame)
    lengths = frame[text_column].fillna("").astype(str).str.len()
    result.text_lengths = {"min": int(lengths.min()), "median": float(lengths.median()), "max": int(lengths.max())}
    result.duplicate_texts = int(frame[text_column].duplicated().sum())
    if id_column:
        result.duplicate_ids = int(frame[id_column].duplicated().sum())
        texts = frame.groupby(id_column, dropna=True)[text_column].nunique()
        result.conflicting_ids = int((texts > 1).sum())
    if label_column and label_column in frame.columns:
        labels = frame[label_column].dropna().map(label_name).astype(str)
        result.class_counts = dict(sorted(Counter(labels).items()))
        result.keywords = _keywords(frame.loc[labels.index, text_column].fillna("").astype(str), labels)
    return result


def _where(name: str, position: int) -> str:
    """Where a row sits, as an editor shows it: a CSV's line (after the header), else the row number."""
    return f"{name} line {position + 2}" if is_csv(name) else f"{name} row {position + 1}"


def _kind(column: pd.Series) -> str:
    numeric = pd.to_numeric(column, errors="coerce")
    if column.notna().any() and numeric[column.notna()].notna().all():
        return "integer" if (numeric.dropna() % 1 == 0).all() else "number"
    return "text"


_WORD = re.compile(r"[^\W\d_][\w']{2,}")  # words in any script (Cyrillic, Greek, accented Latin, ...)
# Scripts written without spaces between words (Chinese, Japanese kana and kanji, Thai): their runs are read as
# character pairs, as most Chinese words are two characters long.
_UNSPACED = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]{2,}")
_STOP = frozenset("the and for with you your this that was are have has not but can could would from when what "
                  "why how all any our out get got just very really also too its it's i'm".split())


KEYWORDS_PER_CLASS = 3


def _keywords(texts: pd.Series, labels: pd.Series,
              per_class: int = KEYWORDS_PER_CLASS) -> dict[str, list[str]]:
    """A few words that mark each class on the labeled rows (frequent in it, rare elsewhere): starting
    points for the LF template, to be replaced by the user's own."""
    in_class: dict[str, Counter] = {c: Counter() for c in labels.unique()}
    overall: Counter = Counter()
    for text, label in zip(texts, labels, strict=True):
        words = _words(text.lower())
        in_class[label].update(words)
        overall.update(words)
    picks = {}
    for label, counts in in_class.items():
        scored = [(n / overall[w], n, w) for w, n in counts.items() if n >= 3]
        picks[label] = [w for _, _, w in sorted(scored, key=lambda s: (-s[0], -s[1], s[2]))[:per_class]]
    return picks


def _words(text: str) -> set[str]:
    """The words of a lower-cased text for keyword picking: spaced words of 3+ letters, and character pairs
    of runs in scripts without spaces."""
    pairs = {run[i:i + 2] for run in _UNSPACED.findall(text) for i in range(len(run) - 1)}
    return (set(_WORD.findall(_UNSPACED.sub(" ", text))) - _STOP) | pairs
