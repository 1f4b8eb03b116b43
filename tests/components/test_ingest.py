import json
import os

import pandas as pd
import pytest
from kfp import dsl

from labelgate.components.ingest import ingest
from labelgate.preflight import CHECKED_ENV, preflight_passed


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


def test_ingest_checks_its_inputs_unless_this_run_s_preflight_passed_for_them(tmp_path, example_data,
                                                                               example_config):
    broken = tmp_path / "lfs.py"
    broken.write_text("raise RuntimeError('this LF module is broken')\n")
    digests = {"data_digest": "d1", "setup_digest": "s1"}

    def run(**extra):
        data = _artifact(dsl.Dataset, tmp_path / "ingest" / "data")
        ingest.python_func(data_uri=str(example_data), config_path=str(example_config), data=data,
                           lf_module=str(broken), suite_path=str(example_config.with_name("expectations.json")),
                           constraints_path=str(example_config.with_name("constraints.txt")), **extra)
        return data

    with pytest.raises(SystemExit):  # no preflight ran: the step checks, and the LF module fails
        run(**digests)
    with preflight_passed(digests):
        assert run(**digests).metadata["rows"] == 1956  # `labelgate run` checked exactly these inputs
        with pytest.raises(SystemExit):  # another run's inputs (or a run without digests) are checked
            run(data_digest="d2", setup_digest="s1")
        with pytest.raises(SystemExit):
            run()
    assert CHECKED_ENV not in os.environ  # nothing is left behind for a later run in this process
    with pytest.raises(SystemExit):
        run(**digests)
