"""Assemble the raw files into one typed table, fingerprint it, and split it for weak supervision."""

from __future__ import annotations

import fnmatch
import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from labelgate.contract import DEV, ROLES, SOURCE, SPLIT, SPLITS, Split
from labelgate.errors import DataError
from labelgate.ingest.readers import RawFile, list_data_files, read_file
from labelgate.ingest.settings import DataSettings, SplitSettings

# A temporary column while splitting: each row's given role (None: pooled).
_ROLE = "__role"
ROLE_WORDS = {"validation": "valid", **{role: role for role in ROLES}}


@dataclass(frozen=True)
class IngestResult:
    """The split table plus what lineage needs (per-file hashes, one fingerprint over them) and what the
    summary shows: each role's origin and rows, rows left out and why, and warnings."""

    frame: pd.DataFrame
    files: dict[str, str]
    fingerprint: str
    roles: dict[str, dict[str, Any]] = field(default_factory=dict)
    dropped: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # gold sets too small or missing classes: the run goes on

    def split_counts(self) -> dict[str, int]:
        counts = {str(name): int((self.frame[SPLIT] == name).sum()) for name in SPLITS}
        counts[DEV] = int(self.frame[DEV].sum())
        return counts


@dataclass
class SplitResult:
    frame: pd.DataFrame
    roles: dict[str, dict[str, Any]]
    dropped: list[dict[str, Any]]
    warnings: list[str]
    notes: list[str] = field(default_factory=list)


def load_raw(uri: str, data: DataSettings) -> tuple[pd.DataFrame, dict[str, str]]:
    """Read every data file under ``uri``; check its columns and types; add a ``source`` column."""
    frames, hashes = [], {}
    for file_uri in list_data_files(uri):
        raw = read_file(file_uri, data.encoding)
        frames.append(_typed(raw, data))
        hashes[raw.name] = raw.sha256
    frame = pd.concat(frames, ignore_index=True)
    return frame, hashes


def reserved_columns(columns: list[str], role_column: str | None) -> str | None:
    """Why a file's columns clash with the ones ingest adds (``source``, ``split``, ``dev``), or None. A
    ``split`` column that is the role column is fine: its roles are read before ingest writes ``split``."""
    clash = [c for c in (SOURCE, SPLIT, DEV) if c in columns and not (c == SPLIT and c == role_column)]
    if not clash:
        return None
    role = (f"; or, if '{SPLIT}' holds each row's role (train/dev/valid/test), set data.role_column: {SPLIT}"
            if SPLIT in clash else "")
    return (f"column(s) {clash} have the name(s) of columns labelgate adds ({SOURCE}: the file name, {SPLIT}: the "
            f"row's role, {DEV}: a gold train row); rename them in the file ('{clash[0]}' -> '{clash[0]}_'){role}")


def _typed(raw: RawFile, data: DataSettings) -> pd.DataFrame:
    frame = raw.frame
    clash = reserved_columns([str(c) for c in frame.columns], data.role_column)
    if clash:
        raise DataError(f"{raw.uri}: {clash}")
    keys = {**({data.id_column: "data.id_column"} if data.id_column else {}), data.text_column: "data.text_column"}
    missing = [c for c in keys if c not in frame.columns]
    if missing:
        no_id = " (data.id_column: null if the data has no id column)" if data.id_column in missing else ""
        raise DataError(
            f"{raw.uri}: missing column(s) {missing}; the file has {list(frame.columns)}.{near_columns(missing, frame)} "
            f"Set {' and '.join(keys[c] for c in missing)} in the config to the file's column name(s){no_id}."
        )
    frame = frame.copy()
    if data.id_column:
        frame[data.id_column] = frame[data.id_column].astype("string")
    frame[data.text_column] = frame[data.text_column].astype("string")
    if data.label_column in frame.columns:
        frame[data.label_column] = _labels(raw.uri, frame[data.label_column], data)
    else:  # an unlabeled file (train rows need no label); a valid/test/dev role needs one: checked in split
        frame[data.label_column] = pd.array([pd.NA] * len(frame), dtype="Int64")
    if data.role_column and data.role_column in frame.columns:
        frame[data.role_column] = frame[data.role_column].astype("string")
    frame.insert(0, SOURCE, raw.name)
    return frame


def near_columns(missing: list[str], frame: pd.DataFrame) -> str:
    """Columns that differ from a missing one only in case or spacing (``Body`` for ``body``)."""
    key = {str(c).strip().casefold(): str(c) for c in frame.columns}
    near = {m: key[m.strip().casefold()] for m in missing if m.strip().casefold() in key}
    return "".join(f" Did you mean '{found}' for '{wanted}'?" for wanted, found in near.items())


def is_csv(name: str) -> bool:
    """A CSV/TSV file (its rows are counted as lines after the header in messages)."""
    return name.lower().removesuffix(".gz").endswith((".csv", ".tsv"))


def label_name(value: Any) -> str:
    """A raw label as text: stripped, and a whole number written as an integer (``1.0`` -> ``1``). Parquet
    and pandas turn an integer label column holding any empty cell into floats; without this, a class named
    ``1`` would not match ``1.0`` and the value would be read as an index (the next class)."""
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() else text


def _labels(uri: str, column: pd.Series, data: DataSettings) -> pd.Series:
    """Gold labels as class indices: a class name from ``data.classes`` or its index ``0..k-1``."""
    names = {label_name(name): i for i, name in enumerate(data.classes)}

    def index(value: Any) -> int | None:
        text = label_name(value)
        if text in names:
            return names[text]
        try:
            number = float(text)
        except ValueError:
            return None
        return int(number) if number.is_integer() and 0 <= number < data.cardinality else None

    present = column.notna()
    mapped = column.map(lambda v: index(v) if pd.notna(v) else None).astype("object")
    bad = present & mapped.isna()
    if bad.any():
        first = 2 if is_csv(uri) else 1  # a CSV's rows counted as an editor shows its lines (the header is 1)
        rows = [int(i) + first for i in np.flatnonzero(bad.to_numpy())[:3]]
        examples = list(column[bad].astype(str).head(3))
        raise DataError(
            f"{uri}: column '{data.label_column}' must hold a class name from data.classes {list(data.classes)} "
            f"or its index 0..{data.cardinality - 1}; found {examples} (rows {rows}). Fix the labels or list "
            f"every class in data.classes."
        )
    return pd.Series(pd.array(mapped.tolist(), dtype="Int64"), index=column.index)


def fingerprint(hashes: dict[str, str]) -> str:
    """One hash over the sorted (file name, content hash) pairs: equal data gives an equal fingerprint."""
    digest = hashlib.sha256()
    for name in sorted(hashes):
        digest.update(f"{name}\0{hashes[name]}\n".encode())
    return digest.hexdigest()


def file_role(name: str) -> str | None:
    """The role a file name starts with (``train*``, ``dev*``, ``valid*``/``validation*``, ``test*``)."""
    lowered = name.lower()
    for word in sorted(ROLE_WORDS, key=len, reverse=True):
        if lowered.startswith(word):
            return ROLE_WORDS[word]
    return None


def assign_roles(frame: pd.DataFrame, data: DataSettings, settings: SplitSettings) -> tuple[pd.Series, dict]:
    """Each row's given role (None: pooled) and where each role came from. Precedence: ``split.roles``
    globs, then ``data.role_column``, then a role word leading the file name."""
    roles = pd.Series([None] * len(frame), index=frame.index, dtype="object")
    origins: dict[str, set[str]] = {}
    sources = frame[SOURCE].astype(str)
    for role, globs in settings.roles.items():
        matched = sources.map(lambda s, g=globs: any(fnmatch.fnmatch(s, p) for p in g)) & roles.isna()
        if not matched.any():
            raise DataError(f"split.roles.{role} = {list(globs)} matches no file; the files are "
                            f"{sorted(sources.unique())}. Fix the glob (it matches file names, not paths).")
        roles[matched] = role
        origins.setdefault(role, set()).add(f"split.roles {role}={','.join(globs)}")
    if data.role_column:
        if data.role_column not in frame.columns:
            raise DataError(f"data.role_column '{data.role_column}' is not a column of the data; the columns are "
                            f"{[c for c in frame.columns if c != SOURCE]}. Fix the name or remove data.role_column.")
        values = frame[data.role_column].str.strip().str.lower()
        given = values.notna() & (values != "") & roles.isna()
        mapped = values[given].map(ROLE_WORDS)
        unknown = sorted(set(values[given][mapped.isna()]))
        if unknown:
            raise DataError(f"column '{data.role_column}' (data.role_column) holds {unknown[:5]}; allowed: "
                            f"{', '.join(ROLES)} or empty (pooled). Fix those values.")
        roles[given] = mapped
        for role in mapped.unique():
            origins.setdefault(role, set()).add(f"column {data.role_column}")
    for name in sources.unique():
        role = file_role(name)
        rows = (sources == name) & roles.isna()
        if role and rows.any():
            roles[rows] = role
            origins.setdefault(role, set()).add(f"file {name}")
    return roles, origins


def split(frame: pd.DataFrame, data: DataSettings, settings: SplitSettings) -> pd.DataFrame:
    """The split table: ``frame`` with ``split`` and ``dev`` columns (see :func:`split_roles`)."""
    return split_roles(frame, data, settings).frame


def split_roles(frame: pd.DataFrame, data: DataSettings, settings: SplitSettings) -> SplitResult:
    """Give every row a role. Given valid/test/dev rows are used exactly as given; pooled rows (no role) are
    split as in Snorkel's spam tutorial: holdout files -> the missing valid/test (stratified), the rest ->
    train. Train labels are hidden except on dev rows (a dev file, else a ``dev_size`` sample of labeled
    train rows). Every row left out is counted with its reason."""
    frame = frame.copy()
    roles, origins = assign_roles(frame, data, settings)
    label = data.label_column
    for role in ("valid", "test", "dev"):
        unlabeled = (roles == role) & frame[label].isna()
        if unlabeled.any():
            files = sorted(frame.loc[unlabeled, SOURCE].astype(str).unique())
            raise DataError(f"{files}: {int(unlabeled.sum())} {role} row(s) lack a gold label in column '{label}' "
                            f"({role} rows are gold); label them, set data.label_column, or give the file another "
                            "role (a train file needs no labels).")
    pooled = roles.isna()
    missing = sorted(set(settings.holdout_sources) - set(frame[SOURCE]))
    if missing:
        raise DataError(f"split.holdout_sources names file(s) not in the data: {missing}; "
                        f"found {sorted(frame[SOURCE].unique())}")
    holdout = pooled & frame[SOURCE].isin(settings.holdout_sources)
    needed = [r for r in ("valid", "test") if not (roles == r).any()]
    dropped: list[dict[str, Any]] = []
    if holdout.any():
        if not needed:
            raise DataError(f"split.holdout_sources {list(settings.holdout_sources)} would give valid and test rows, "
                            "but valid and test files are already given; remove split.holdout_sources.")
        _split_holdout(frame, roles, origins, holdout, needed, data, settings, dropped)
    elif needed:
        raise DataError(
            f"no {' and no '.join(needed)} rows: add a labeled file whose name starts with "
            f"{' / '.join(r for r in needed)} (e.g. {needed[0]}.csv), map files with split.roles "
            f"(labelgate init --split {needed[0]}=GLOB), name a role column (data.role_column), or list "
            "labeled files in split.holdout_sources to split them.")
    if (pooled & ~holdout).any():
        roles[pooled & ~holdout] = "train"
        names = sorted(frame.loc[pooled & ~holdout, SOURCE].astype(str).unique())
        origins.setdefault("train", set()).add(f"pooled: {', '.join(names)}")
    if (roles == "train").sum() == 0 and (roles == "dev").sum() == 0:
        raise DataError("every file is valid or test data (or a holdout source): nothing is left to train on")

    kept = roles.notna()
    frame[SPLIT] = roles.map(lambda r: "train" if r == "dev" else r)
    frame[DEV] = (roles == "dev").to_numpy()
    frame = frame[kept].copy()
    warnings: list[str] = []
    columns = (data.id_column, data.text_column, label)
    if not frame[DEV].any():
        train_idx = frame.index[frame[SPLIT] == Split.TRAIN]
        rng = np.random.default_rng(settings.seed)
        labeled = [i for i in train_idx if pd.notna(frame.at[i, label])]
        dev_size = min(settings.dev_size, len(labeled))
        dev_idx = rng.choice(np.asarray(labeled), size=dev_size, replace=False) if dev_size else []
        frame.loc[dev_idx, DEV] = True
        if dev_size:
            origins["dev"] = {f"sampled: {dev_size} labeled train rows (split.dev_size)"}
        else:
            warnings.append(
                "no labeled dev rows: LF accuracies, the label model's dev selection and its dev accuracy are "
                f"skipped. Add a labeled dev file (dev.csv: {', '.join(c for c in columns if c)}; a few "
                "hundred rows) or map one with split.roles.dev.")
    # Gold labels on train rows are hidden from labeling: only dev rows keep them.
    frame.loc[(frame[SPLIT] == Split.TRAIN) & ~frame[DEV], label] = pd.NA
    frame = frame.reset_index(drop=True)
    counts = {"train": int(((frame[SPLIT] == "train") & ~frame[DEV]).sum()), "dev": int(frame[DEV].sum()),
              "valid": int((frame[SPLIT] == "valid").sum()), "test": int((frame[SPLIT] == "test").sum())}
    role_info = {role: {"rows": counts[role], "origin": "; ".join(sorted(origins.get(role, set()))) or "-"}
                 for role in ROLES}
    notes = _small_gold_sets(frame, counts, data)
    leaks, overlap_notes = _gold_overlap(frame, data)
    return SplitResult(frame=frame, roles=role_info, dropped=dropped, warnings=warnings + leaks,
                       notes=notes + overlap_notes)


# Below this many rows a gold set's accuracy moves by more than 3% per row: said once, not refused.
SMALL_GOLD_ROWS = 30
GOLD_USE = {"dev": "LF accuracies and the label model's choice", "valid": "the model search's choice",
            "test": "the model gate's numbers"}


def _small_gold_sets(frame: pd.DataFrame, counts: dict[str, int], data: DataSettings) -> list[str]:
    """Warnings for a gold role that is tiny or lacks classes: the run works, but its numbers say little."""
    notes = []
    for role, use in GOLD_USE.items():
        rows = counts[role]
        if 0 < rows < SMALL_GOLD_ROWS:
            notes.append(f"{role} has only {rows} row(s) for {use}: one row moves its accuracy by {1 / rows:.0%}; "
                         f"a few hundred labeled {role} rows make it trustworthy.")
        if role != "dev" and rows:
            seen = set(frame.loc[frame[SPLIT] == role, data.label_column].dropna().astype(int))
            absent = [name for i, name in enumerate(data.classes) if i not in seen]
            if absent:
                notes.append(f"{role} has no rows of class(es) {absent}: {use} cannot tell how the model does on "
                             f"them; add labeled {role} rows of each class.")
    return notes


# A gold set with at least this share of its texts also in train is warned about, not just noted: short stock
# texts repeat innocently (the example's valid set shares 10% with train: "nice song"); a copied file shares most.
LEAK_WARN_SHARE = 0.25


def folded_texts(texts: pd.Series) -> pd.Series:
    """Texts compared for overlap: no byte-order marks, case folded, whitespace collapsed."""
    return texts.astype("string").fillna("").str.replace("\ufeff", "").str.casefold().str.split().str.join(" ")


# Which gold roles are checked against which roles the model learns from: train (LF labels, dev rows) and valid
# (training.refit_valid_weight trains the chosen model again with the valid rows; valid also chose it).
OVERLAP_CHECKS = (("valid", "train"), ("test", "train"), ("test", "valid"))
LEARNED_FROM = {"train": "the model saw them while training",
                "valid": "the model learns from the valid rows too (training.refit_valid_weight) and valid chose it"}


def _gold_overlap(frame: pd.DataFrame, data: DataSettings) -> tuple[list[str], list[str]]:
    """(warnings, notes) for valid rows that train also holds, and test rows that train or valid hold: the same
    id (the same record in two roles: a warning), or the same text (short stock texts repeat innocently: a note,
    a warning from ``LEAK_WARN_SHARE`` of the role). The model learned from those texts, so that role's numbers
    read high."""
    warnings: list[str] = []
    notes: list[str] = []
    texts_of: dict[str, pd.Series] = {}
    for role in ("train", "valid", "test"):
        texts_of[role] = folded_texts(frame.loc[frame[SPLIT] == role, data.text_column])
    for role, other in OVERLAP_CHECKS:
        rows = frame[frame[SPLIT] == role]  # every run has valid and test rows (split_roles)
        files = ", ".join(sorted(rows[SOURCE].astype(str).unique()))
        other_rows = frame[frame[SPLIT] == other]
        other_ids = set(other_rows[data.id_column].dropna().astype(str)) if data.id_column else set()
        if other_ids:
            shared = rows[data.id_column].dropna().astype(str)
            shared = shared[shared.isin(other_ids)]
            if len(shared):
                warnings.append(
                    f"{role} and {other} share {len(shared)} id(s) in column '{data.id_column}' (e.g. "
                    f"{', '.join(repr(i) for i in shared.unique()[:3])}): the same records in both roles make the "
                    f"{role} numbers read high; remove them from {files} or from the {other} file(s).")
        texts = texts_of[role]
        seen = texts.isin(set(texts_of[other]) - {""})
        if seen.any():
            share = float(seen.mean())
            examples = ", ".join(repr(t[:60]) for t in texts[seen].unique()[:3])
            text = (f"{role}: {int(seen.sum())} of {len(rows)} row(s) ({share:.1%}) have a text that {other} also has "
                    f"(e.g. {examples}); {LEARNED_FROM[other]}, so {role} accuracy ({GOLD_USE[role]}) "
                    f"reads high by up to that share. If they are copies, remove them from {files}.")
            (warnings if share >= LEAK_WARN_SHARE else notes).append(text)
    return warnings, notes


def _split_holdout(frame: pd.DataFrame, roles: pd.Series, origins: dict, holdout: pd.Series, needed: list[str],
                   data: DataSettings, settings: SplitSettings, dropped: list[dict[str, Any]]) -> None:
    """Today's tutorial split of the holdout files into the roles not given (valid and/or test)."""
    # sklearn takes about a second to import: only the runs that split pay it, not every step reading settings.
    from sklearn.model_selection import train_test_split

    held = frame[holdout]
    names = ", ".join(sorted(held[SOURCE].astype(str).unique()))
    sizes = {"valid": settings.valid_size, "test": settings.test_size}
    need = sum(sizes[r] for r in needed)
    if len(held) < need:
        keys = " + ".join(f"split.{r}_size" for r in needed)
        raise DataError(f"the holdout files ({names}) have {len(held)} rows; {keys} need {need}: lower them or "
                        "add labeled rows")
    if held[data.label_column].isna().any():
        raise DataError(f"the holdout files ({names}) need a gold '{data.label_column}' on every row "
                        "(valid/test are gold)")
    if len(held) > need:
        dropped.append({"rows": len(held) - need, "files": names,
                        "reason": f"holdout rows beyond {' + '.join(f'split.{r}_size' for r in needed)} = {need}"})
    held = held.sample(n=need, random_state=settings.seed) if len(held) > need else held
    how = "stratified"
    if len(needed) == 2:
        labels = held[data.label_column].to_numpy()
        try:
            valid_idx, test_idx = train_test_split(held.index.to_numpy(), test_size=settings.test_size,
                                                   train_size=settings.valid_size, random_state=settings.seed,
                                                   stratify=labels)
        except ValueError as exc:  # a class with one row, or fewer rows in a role than classes: split at random
            counts = held[data.label_column].value_counts()
            rare = [data.classes[int(i)] for i in counts[counts < 2].index]
            how = (f"not stratified: class(es) {rare} have one row" if rare else f"not stratified: {exc}")
            valid_idx, test_idx = train_test_split(held.index.to_numpy(), test_size=settings.test_size,
                                                   train_size=settings.valid_size, random_state=settings.seed)
        valid_idx, test_idx = _one_side_per_id(held, valid_idx, test_idx, data)
        roles.loc[valid_idx], roles.loc[test_idx] = "valid", "test"
    else:
        roles.loc[held.index] = needed[0]
    for role in needed:
        origins.setdefault(role, set()).add(f"holdout: {names} ({sizes[role]} rows, {how})")


def _one_side_per_id(held: pd.DataFrame, valid_idx: np.ndarray, test_idx: np.ndarray,
                     data: DataSettings) -> tuple[np.ndarray, np.ndarray]:
    """Rows of one id (a record written twice in a holdout file) split to both valid and test would be learned from
    (the model is refit with the valid rows) and scored: each such test row trades places with a valid row of the
    same class whose id no other row has, so both roles keep their sizes and class counts. A row with no such
    partner stays (ingest's overlap check then names it)."""
    if not data.id_column:
        return valid_idx, test_idx
    ids = held[data.id_column].astype("string")
    valid, test = list(valid_idx), list(test_idx)
    shared = set(ids.loc[valid].dropna()) & set(ids.loc[test].dropna())
    if not shared:
        return valid_idx, test_idx
    counts = ids.value_counts()
    labels = held[data.label_column]
    for t, row in enumerate(test):
        if pd.isna(ids[row]) or ids[row] not in shared:
            continue
        partner = next((v for v, other in enumerate(valid) if labels[other] == labels[row]
                        and (pd.isna(ids[other]) or counts[ids[other]] == 1)), None)
        if partner is not None:
            test[t], valid[partner] = valid[partner], row
    return np.asarray(valid), np.asarray(test)


def ingest(uri: str, data: DataSettings, settings: SplitSettings) -> IngestResult:
    """Read, type-check, fingerprint and split the raw data under ``uri``."""
    frame, hashes = load_raw(uri, data)
    result = split_roles(frame, data, settings)
    return IngestResult(frame=result.frame, files=hashes, fingerprint=fingerprint(hashes), roles=result.roles,
                        dropped=result.dropped, warnings=result.warnings, notes=result.notes)

