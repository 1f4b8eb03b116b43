"""The input of a retraining run: the training data plus the served texts as unlabeled train rows.

Nothing here decides anything about the data: the texts go into a train file in the project's own file format
beside the original files, and the run's ingest, data gate and model gate judge them as any data. Columns the
traffic lacks are filled where the pipeline's own rules say what a train row holds (an id, the text, no label,
the train role) and otherwise left empty, so the suite judges them as any missing value.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import fsspec
import pandas as pd

from labelgate.contract import TRAINING_CONFIG_FILE
from labelgate.errors import ConfigError, DataError
from labelgate.ingest.readers import file_format, list_data_files, read_file
from labelgate.ingest.settings import DataSettings
from labelgate.monitoring.monitor import ChampionInputs
from labelgate.serving.prediction_log import TEXT

# The traffic file's name starts with the role word `train`, so ingest gives its rows the train role (unless
# split.roles maps it otherwise); the rest of the name says where the rows came from.
TRAFFIC_FILE_PREFIX = "train-traffic-"
# An id of a traffic row: this prefix, the retrain stamp and the row's position (unique across retrains).
TRAFFIC_ID_PREFIX = "traffic-"
HASHED_REFUSAL = ("--retrain needs the served texts, but the prediction log holds only their SHA-256 hashes (the "
                  "server ran with --prediction-log-privacy hash); the champion's LFs cannot label hashes. Serve with "
                  "--prediction-log-privacy text (the default) to retrain on traffic, or retrain by hand with "
                  "`labelgate run` on data you collect")
_WRITERS = {"csv": "csv", "parquet": "parquet", "jsonl": "jsonl"}


@dataclass(frozen=True)
class RetrainData:
    """Where a retraining run's data is and what the traffic file holds."""

    data_uri: str
    traffic_file: str
    rows: int
    original_files: list[str]
    filled: dict[str, str] = field(default_factory=dict)  # column -> what it holds on traffic rows
    left_empty: list[str] = field(default_factory=list)  # columns the traffic has no value for
    notes: list[str] = field(default_factory=list)


def served_texts(log: pd.DataFrame) -> list[str]:
    """The logged texts; a ConfigError naming the server flag when the log holds only hashes."""
    if TEXT not in log.columns or log[TEXT].isna().all():
        raise ConfigError(HASHED_REFUSAL)
    return log[TEXT].dropna().astype(str).tolist()


def traffic_table(texts: Sequence[str], data: DataSettings, *, columns: Sequence[str], stamp: str,
                  feature_columns: Sequence[str] = ()) -> tuple[pd.DataFrame, dict[str, str], list[str]]:
    """Train rows for ``texts`` with the train table's ``columns``: the id (generated, unique), the text, the role
    column (``train``) filled; the label left out (a train file needs none: ingest hides train labels anyway);
    every other column, tabular features included, left empty. Returns the table, filled and empty columns."""
    if not texts:
        raise DataError("no served texts to retrain on in the prediction-log window")
    frame = pd.DataFrame({data.text_column: list(texts)})
    filled = {data.text_column: "the served text"}
    if data.id_column:  # a project without an id column (data.id_column: null) gets none
        frame.insert(0, data.id_column, [f"{TRAFFIC_ID_PREFIX}{stamp}-{i:07d}" for i in range(len(texts))])
        filled = {data.id_column: f"generated ids {TRAFFIC_ID_PREFIX}{stamp}-<n>", **filled}
    if data.role_column:
        frame[data.role_column] = "train"
        filled[data.role_column] = "train"
    skip = {data.id_column, data.text_column, data.label_column, data.role_column}
    empty = [c for c in dict.fromkeys([*columns, *feature_columns]) if c not in skip]
    for column in empty:
        frame[column] = pd.NA
    return frame, filled, empty


def suite_notes(suite_path: str | Path | None, empty: Sequence[str]) -> list[str]:
    """Critical not-null expectations of the suite on columns the traffic leaves empty: the data gate will judge
    them on the traffic rows too (a sentence each, naming the fix)."""
    if not suite_path or not empty or not Path(suite_path).is_file():
        return []
    try:
        expectations = json.loads(Path(suite_path).read_text()).get("expectations", [])
    except (ValueError, AttributeError):
        return []
    notes = []
    for exp in expectations:
        kwargs = exp.get("kwargs", {}) if isinstance(exp, dict) else {}
        if (exp.get("type") == "expect_column_values_to_not_be_null" and exp.get("severity") == "critical"
                and kwargs.get("column") in empty and "row_condition" not in kwargs):
            notes.append(f"the suite expects {kwargs['column']!r} not null (critical{', mostly ' + str(kwargs['mostly']) if 'mostly' in kwargs else ''}); "
                         "served traffic has no value for it, so the data gate may block the run: give the expectation "
                         f"a row_condition that leaves out source files starting with {TRAFFIC_FILE_PREFIX!r}, or make it a warning")
    return notes


def build_retrain_data(*, texts: Sequence[str], data_uri: str, out_uri: str, data: DataSettings,
                       suite_path: str | None = None, feature_columns: Sequence[str] = (),
                       now: datetime | None = None) -> RetrainData:
    """Write a data folder at ``out_uri`` (local path or fsspec URI): every file under ``data_uri`` (hard links
    locally where possible, else copies) and ``train-traffic-<stamp>.<ext>``, the served ``texts`` as unlabeled
    train rows in the format of the original files."""
    files = list_data_files(data_uri)
    names = [f.rstrip("/").rsplit("/", 1)[-1] for f in files]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise DataError(f"{data_uri}: files in different folders share the names {repeated}; ingest names rows by "
                        "file name, so a retraining folder cannot hold them side by side. Rename them")
    columns: list[str] = []
    for uri in files:  # the union of the files' columns, as ingest concatenates them
        columns += [c for c in read_file(uri, data.encoding).frame.columns if c not in columns]
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    kind = _WRITERS.get(file_format(files[0]).split(".")[0], "csv")
    table, filled, empty = traffic_table(texts, data, columns=columns, stamp=stamp, feature_columns=feature_columns)
    out = out_uri.rstrip("/")
    fs, root = fsspec.core.url_to_fs(out)
    fs.makedirs(root, exist_ok=True)
    for uri, name in zip(files, names, strict=True):
        _link_or_copy(uri, f"{out}/{name}")
    payload = None
    if kind == "csv":  # in the files' encoding (data.encoding); texts it cannot hold go in a JSON Lines file
        try:
            payload = table.to_csv(index=False).encode(data.encoding or "utf-8")
        except UnicodeEncodeError:
            kind = "jsonl"
    extension = {"csv": ".csv", "parquet": ".parquet", "jsonl": ".jsonl"}[kind]
    traffic = f"{out}/{TRAFFIC_FILE_PREFIX}{stamp}{extension}"
    with fsspec.open(traffic, "wb") as fh:
        if kind == "parquet":
            table.to_parquet(fh, index=False)
        elif kind == "jsonl":
            fh.write(table.to_json(orient="records", lines=True).encode("utf-8"))
        else:
            fh.write(payload)
    return RetrainData(data_uri=out, traffic_file=traffic, rows=len(table), original_files=files, filled=filled,
                       left_empty=empty, notes=suite_notes(suite_path, empty))


def champion_retrain_data(champion: ChampionInputs, log: pd.DataFrame, *, data_uri: str, out_uri: str,
                          suite_path: str | None = None, config_path: str | None = None) -> RetrainData:
    """The retraining folder for a drifted window (``labelgate monitor --retrain`` and the monitoring pipeline):
    the files of ``data_uri`` plus the window's served texts, with the champion's own data settings and the
    feature columns of the config it was trained with (kept in its bundle; else ``config_path``'s)."""
    from labelgate.config import load_config
    from labelgate.training.settings import TrainingSettings

    model_dir = champion.model_dir
    kept = model_dir / TRAINING_CONFIG_FILE
    config = load_config(kept) if kept.is_file() else load_config(config_path) if config_path else {}
    features = TrainingSettings.from_section(config["training"]).feature_columns if "training" in config else ()
    return build_retrain_data(texts=served_texts(log), data_uri=data_uri, out_uri=out_uri, data=champion.data,
                              suite_path=suite_path, feature_columns=features)


def _link_or_copy(source: str, target: str) -> None:
    import os
    import shutil

    local = "://" not in source and "://" not in target
    if local:
        Path(target).unlink(missing_ok=True)
        try:
            os.link(source, target)
        except OSError:
            shutil.copyfile(source, target)
        return
    with fsspec.open(source, "rb") as src, fsspec.open(target, "wb") as dst:
        shutil.copyfileobj(src, dst)
