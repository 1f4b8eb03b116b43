import json

import pandas as pd
import pytest
from kfp import dsl

from labelgate.components.ingest import ingest


def _artifact(kind, path):
    artifact = kind(uri=str(path))
    return artifact


def test_ingest_component_writes_parquet_and_lineage(tmp_path, example_data, example_config):
    data = _artifact(dsl.Dataset, tmp_path / "ingest" / "data")
    ingest.python_func(data_uri=str(example_data), config_path=str(example_config), data=data)
    frame = pd.read_parquet(data.path)
    assert len(frame) == data.metadata["rows"] == 1956
    assert data.metadata["splits"] == {"train": 1586, "valid": 120, "test": 250, "dev": 100}
    assert set(data.metadata["files"]) == {p.name for p in example_data.glob("*.csv")}
    assert {"source", "split", "dev", "CONTENT", "CLASS"} <= set(frame.columns)


def test_ingest_component_reports_bad_input_without_traceback(tmp_path, example_config, capsys):
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "a.csv").write_text("COMMENT_ID,CLASS\n1,0\n")
    data = _artifact(dsl.Dataset, tmp_path / "ingest" / "data")
    with pytest.raises(SystemExit) as exit_info:
        ingest.python_func(data_uri=str(tmp_path / "raw"), config_path=str(example_config), data=data)
    assert exit_info.value.code == 1
    failure = json.loads((tmp_path / "ingest" / "failure.json").read_text())
    assert failure["step"] == "ingest" and failure["error"] == "DataError"
    assert "missing column(s) ['CONTENT', 'AUTHOR']" not in failure["message"]  # only required columns
    assert "['CONTENT']" in failure["message"] and "a.csv" in failure["message"]
    assert "ingest failed: DataError" in capsys.readouterr().err
