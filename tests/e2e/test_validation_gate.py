"""The data gate end to end: bad inputs and drifted data are blocked and the champion stays where it was."""

import re
import shutil

import pandas as pd
import pytest

from labelgate.run import EXIT_BLOCKED, EXIT_OK

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TARGET = "Youtube01-Psy.csv"  # the file each case breaks (a train file)


def _champion_version(registry):
    from mlflow import MlflowClient

    uri = f"sqlite:///{registry}/mlflow.db"
    return MlflowClient(tracking_uri=uri, registry_uri=uri).get_model_version_by_alias("youtube-spam", "champion").version


@pytest.fixture(scope="module")
def champion(example_champion):
    """The example's pushed champion (one run shared across the suite), which every case below must leave in
    place."""
    assert example_champion["exit_code"] == EXIT_OK, example_champion["output"]
    return example_champion["registry"], _champion_version(example_champion["registry"])


def _copy(example_data, folder):
    folder.mkdir()
    for path in example_data.glob("*.csv"):
        shutil.copy(path, folder / path.name)
    return folder / TARGET


def _empty(path):
    path.write_bytes(b"")


def _renamed_column(path):
    pd.read_csv(path).rename(columns={"CONTENT": "COMMENT_TEXT"}).to_csv(path, index=False)


def _latin1(path):
    path.write_bytes(path.read_bytes() + b"zz1,someone,2014-01-01T00:00:00,caf\xe9 au lait,0\n")


def _extra_cells(path):
    path.write_bytes(path.read_bytes() + b"zz2,someone,2014-01-01T00:00:00,hello,there,0\n")


def _huge_cell(path):
    frame = pd.read_csv(path)
    frame.loc[0, "CONTENT"] = "buy now " * 1_300_000  # about 10 MB in one cell
    frame.to_csv(path, index=False)


def _parquet_named_csv(path):
    pd.read_csv(path).to_parquet(path)


@pytest.mark.parametrize(
    ("breaker", "message"),
    [
        (_empty, "the file is empty"),
        (_renamed_column, "missing column(s) ['CONTENT']"),
        (_latin1, "not valid UTF-8"),
        (_extra_cells, "has 6 cells but the header has 5"),
        (_huge_cell, "expect_column_value_lengths_to_be_between(CONTENT): 1 of 1956 rows"),
        (_parquet_named_csv, "rename it to .parquet"),
    ],
    ids=["empty", "renamed-column", "non-utf8", "malformed-row", "10mb-cell", "parquet-named-csv"],
)
def test_bad_input_is_blocked_and_the_champion_is_unchanged(labelgate_run, example_data, champion, tmp_path,
                                                            breaker, message):
    registry, version = champion
    breaker(_copy(example_data, tmp_path / "data"))
    result = labelgate_run("--data", str(tmp_path / "data"), run_id=f"bad-{breaker.__name__}", registry=registry)
    assert result.exit_code == EXIT_BLOCKED, result.output
    assert message in result.output
    assert TARGET in result.output or "CONTENT" in result.output
    assert "Traceback" not in result.output
    assert result.summary["pushed"] is None
    assert _champion_version(registry) == version


def test_a_keyword_gone_from_the_text_is_blocked_by_drift(labelgate_run, example_data, champion, tmp_path):
    registry, version = champion
    folder = tmp_path / "data"
    _copy(example_data, folder)
    for path in folder.glob("*.csv"):
        frame = pd.read_csv(path)
        frame["CONTENT"] = frame["CONTENT"].map(
            lambda text: re.sub("sub4sub", "f4f", re.sub("subscribe", "follow", text, flags=re.I), flags=re.I))
        frame.to_csv(path, index=False)
    result = labelgate_run("--data", str(folder), run_id="drift-keyword", registry=registry)
    assert result.exit_code == EXIT_BLOCKED, result.output
    reason = result.summary["gates"]["data-gate"]["reason"]
    assert reason.startswith("blocked by")
    assert re.search(r"drift: LF 'keyword_subscribe' coverage: coverage 0\.1\d+ -> 0\.000 \(collapsed\)", reason)
    assert result.summary["pushed"] is None
    assert _champion_version(registry) == version
