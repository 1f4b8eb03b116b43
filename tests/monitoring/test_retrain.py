"""The input of `labelgate monitor --retrain`: the training files plus served texts as unlabeled train rows, read
back by the real ingest; a hash-only log is refused naming the server flag."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from labelgate.cli import main
from labelgate.contract import PROFILE_FILE, SOURCE, SPLIT, TRAINING_CONFIG_FILE
from labelgate.errors import ConfigError
from labelgate.ingest.dataset import ingest
from labelgate.ingest.settings import DataSettings, SplitSettings
from labelgate.monitoring.retrain import (
    TRAFFIC_FILE_PREFIX,
    build_retrain_data,
    served_texts,
    suite_notes,
    traffic_table,
)
from labelgate.run import EXIT_ERROR
from labelgate.serving.prediction_log import PredictionLog

DATA = DataSettings()  # the example's columns: COMMENT_ID, CONTENT, CLASS


def _training_files(folder: Path, *, suffix: str = ".csv") -> Path:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name, n in (("comments-a", 40), ("comments-b", 30)):
        frame = pd.DataFrame({"COMMENT_ID": [f"{name}-{i}" for i in range(n)], "AUTHOR": "someone",
                              "DATE": "2015-01-01T00:00:00", "CONTENT": [f"comment {i} of {name}" for i in range(n)],
                              "CLASS": rng.integers(0, 2, n)})
        if suffix == ".csv":
            frame.to_csv(folder / f"{name}{suffix}", index=False)
        else:
            frame.to_parquet(folder / f"{name}{suffix}", index=False)
    return folder


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_traffic_becomes_unlabeled_train_rows_that_ingest_reads(tmp_path: Path, suffix: str) -> None:
    data = _training_files(tmp_path / "data", suffix=suffix)
    texts = ["lorem ipsum dolor", "lorem ipsum dolor", "sit amet"]  # served twice: two rows, two ids
    built = build_retrain_data(texts=texts, data_uri=str(data), out_uri=str(tmp_path / "retrain"), data=DATA)
    names = sorted(p.name for p in (tmp_path / "retrain").iterdir())
    traffic = Path(built.traffic_file).name
    assert names == sorted([f"comments-a{suffix}", f"comments-b{suffix}", traffic])
    assert traffic.startswith(TRAFFIC_FILE_PREFIX) and traffic.endswith(suffix)  # the project's file format
    assert (tmp_path / "retrain" / f"comments-a{suffix}").read_bytes() == (data / f"comments-a{suffix}").read_bytes()
    assert built.rows == 3 and built.left_empty == ["AUTHOR", "DATE"]
    assert set(built.filled) == {"COMMENT_ID", "CONTENT"}

    split = SplitSettings(holdout_sources=("comments-b" + suffix,), valid_size=15, test_size=15, dev_size=5)
    result = ingest(built.data_uri, DATA, split)
    rows = result.frame[result.frame[SOURCE] == traffic]
    assert rows["CONTENT"].tolist() == texts
    assert (rows[SPLIT] == "train").all() and not rows["dev"].any()  # the role word leading the file name
    assert rows["CLASS"].isna().all() and rows["AUTHOR"].isna().all() and rows["DATE"].isna().all()
    assert rows["COMMENT_ID"].is_unique and not rows["COMMENT_ID"].isin(result.frame["COMMENT_ID"][
        result.frame[SOURCE] != traffic]).any()
    assert len(result.frame) == 73


def test_a_role_column_is_filled_with_train(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    pd.DataFrame({"id": ["1", "2", "3", "4"], "body": ["a b", "c d", "e f", "g h"], "label": [0, 1, 0, 1],
                  "role": ["train", "valid", "test", "train"], "score": [1.0, 2.0, 3.0, 4.0]}).to_csv(
        data / "all.csv", index=False)
    settings = DataSettings(id_column="id", text_column="body", label_column="label", classes=("a", "b"),
                            role_column="role")
    built = build_retrain_data(texts=["new text"], data_uri=str(data), out_uri=str(tmp_path / "out"), data=settings,
                               feature_columns=("score", "missing_feature"))
    table = pd.read_csv(built.traffic_file)
    assert table["role"].tolist() == ["train"]
    assert built.left_empty == ["score", "missing_feature"] and table["score"].isna().all()
    assert "label" not in table.columns  # a train file needs no label column


def test_the_suite_names_columns_the_traffic_cannot_fill(tmp_path: Path) -> None:
    suite = tmp_path / "suite.json"
    suite.write_text(json.dumps({"expectations": [
        {"type": "expect_column_values_to_not_be_null", "severity": "critical", "kwargs": {"column": "AUTHOR"}},
        {"type": "expect_column_values_to_not_be_null", "severity": "warning", "kwargs": {"column": "DATE"}},
        {"type": "expect_column_values_to_not_be_null", "severity": "critical",
         "kwargs": {"column": "DATE", "row_condition": "split != \"train\""}}]}))
    notes = suite_notes(suite, ["AUTHOR", "DATE"])
    assert len(notes) == 1 and "'AUTHOR'" in notes[0] and "row_condition" in notes[0] and TRAFFIC_FILE_PREFIX in notes[0]


def _log(directory: Path, texts: list[str], spam: float, *, privacy: str = "text") -> Path:
    log = PredictionLog(directory, privacy=privacy, start=False, queue_size=len(texts) + 1)  # type: ignore[arg-type]
    probs = np.column_stack([np.full(len(texts), 1.0 - spam), np.full(len(texts), spam)])
    log.offer(model="spam", version="1", texts=texts, probs=probs, classes=["ham", "spam"])
    log.close()
    return directory


def class_share_bundle(root: Path, config: Path) -> Path:
    """A bundle whose profile holds only a class balance (no LF module): all-ham traffic drifts."""
    (root / "model").mkdir(parents=True)
    shutil.copyfile(config, root / "model" / TRAINING_CONFIG_FILE)
    (root / PROFILE_FILE).write_text(json.dumps({"class_balance": [0.5, 0.5]}))
    return root


def test_a_hash_only_log_is_refused_naming_the_flag(tmp_path: Path, example_config: Path, capsys) -> None:
    bundle = class_share_bundle(tmp_path / "bundle", example_config)
    log = _log(tmp_path / "log", [f"text {i}" for i in range(300)], 0.1, privacy="hash")
    with pytest.raises(ConfigError, match="--prediction-log-privacy text"):
        served_texts(pd.read_parquet(next((tmp_path / "log").iterdir())))
    code = main(["monitor", "--log", str(log), "--bundle", str(bundle), "--out", str(tmp_path / "out"), "--retrain",
                 "--runs-dir", str(tmp_path / "runs")])
    assert code == EXIT_ERROR
    err = capsys.readouterr().err
    assert "--retrain needs the served texts" in err and "--prediction-log-privacy text" in err
    assert not (tmp_path / "runs").exists()


def test_traffic_rows_get_no_id_column_when_the_project_has_none() -> None:
    data = DataSettings(id_column=None, text_column="body", label_column="category", classes=("a", "b"))
    frame, filled, empty = traffic_table(["hi", "there"], data, columns=["body", "lang"], stamp="s")
    assert list(frame.columns) == ["body", "lang"] and list(filled) == ["body"] and empty == ["lang"]


def test_traffic_is_written_in_the_data_encoding_and_as_json_lines_when_that_cannot_hold_it(tmp_path: Path) -> None:
    """A cp1252 project (data.encoding) gets its traffic file in cp1252, which ingest reads back; served texts
    cp1252 cannot hold (emoji, CJK) go in a UTF-8 JSON Lines file instead of being lost."""
    data = tmp_path / "data"
    data.mkdir()
    for name, n in (("comments-a", 40), ("comments-b", 30)):
        pd.DataFrame({"COMMENT_ID": [f"{name}-{i}" for i in range(n)], "CONTENT": [f"crème {i} {name}" for i in range(n)],
                      "CLASS": [i % 2 for i in range(n)]}).to_csv(data / f"{name}.csv", index=False, encoding="cp1252")
    settings = DataSettings(encoding="cp1252")
    split = SplitSettings(holdout_sources=("comments-b.csv",), valid_size=15, test_size=15, dev_size=5)
    for texts, suffix in ((["déjà vu", "5€ off"], ".csv"), (["déjà vu", "so good 😀", "好"], ".jsonl")):
        out = tmp_path / f"retrain{suffix}"
        built = build_retrain_data(texts=texts, data_uri=str(data), out_uri=str(out), data=settings)
        assert built.traffic_file.endswith(suffix)
        if suffix == ".csv":
            assert "déjà vu".encode("cp1252") in Path(built.traffic_file).read_bytes()
        frame = ingest(built.data_uri, settings, split).frame
        assert frame.loc[frame[SOURCE] == Path(built.traffic_file).name, "CONTENT"].tolist() == texts
