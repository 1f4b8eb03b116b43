"""`labelgate init`: profile a person's data, write a project folder that `labelgate run --project` reads."""

import json
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from labelgate.cli import main
from labelgate.cli.pipeline import project_flags, resolved
from labelgate.preflight import preflight

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "support_tickets"))
import make_data  # noqa: E402


def _init(tmp_path, *extra, data=None):
    data = data or make_data.write(tmp_path / "data", train=300, dev=60, valid=60, test=80)
    project = tmp_path / "proj"
    code = main(["init", str(project), "--data", str(data), "--text-column", "body", "--label-column", "category",
                 "--id-column", "ticket_id", *extra])
    return code, project


def test_init_writes_a_project_that_preflight_accepts(tmp_path, capsys):
    code, project = _init(tmp_path, "--model-name", "tickets")
    assert code == 0
    out = capsys.readouterr().out
    assert "train.csv" in out and "role train  unlabeled" in out and "make serve MODEL_NAME=tickets" in out
    config = yaml.safe_load((project / "config.yaml").read_text())
    assert config["pipeline"]["data_uri"] == "../data" and config["pipeline"]["model_name"] == "tickets"
    assert config["data"]["classes"] == sorted(make_data.CLASSES)  # sorted without --classes, and printed
    assert "0=account" in out
    assert set(config) == {"pipeline", "data", "split", "labeling", "validation", "training", "evaluation", "serving"}
    suite = json.loads((project / "expectations.json").read_text())
    assert {e["severity"] for e in suite["expectations"]} == {"critical", "warning"}
    params = resolved(project_flags(type("A", (), {"project": str(project), "config_path": None,
                                                   "data_uri": None})(), ["config_path", "data_uri"]))
    report = preflight(data_uri=params["data_uri"], lf_module=params["lf_module"], config_path=params["config_path"],
                       suite_path=params["suite_path"], constraints_path=params["constraints_path"])
    assert report.errors == []
    assert report.ingested.roles["test"] == {"rows": 80, "origin": "file test.csv"}


def test_classes_flag_fixes_the_order_and_split_flags_become_roles(tmp_path):
    data = make_data.write(tmp_path / "data", train=100, dev=40, valid=40, test=40)
    (data / "test.csv").rename(data / "holdout.csv")
    order = ",".join(reversed(make_data.CLASSES))
    code, project = _init(tmp_path, "--classes", order, "--split", "test=holdout*.csv", data=data)
    assert code == 0
    config = yaml.safe_load((project / "config.yaml").read_text())
    assert config["data"]["classes"] == list(reversed(make_data.CLASSES))
    assert config["split"]["roles"] == {"test": ["holdout*.csv"]}
    assert "PRAISE = 0" in (project / "lfs.py").read_text()


def test_unlabeled_data_without_classes_says_what_to_pass(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    pd.DataFrame({"ticket_id": ["a", "b"], "body": ["x", "y"]}).to_csv(data / "train.csv", index=False)
    code, _ = _init(tmp_path, data=data)
    assert code == 1 and "pass --classes a,b,..." in capsys.readouterr().err


def test_init_refuses_to_overwrite_and_run_project_needs_a_config(tmp_path, capsys):
    assert _init(tmp_path)[0] == 0
    code, _ = _init(tmp_path, data=tmp_path / "data")
    assert code == 1 and "pass --force" in capsys.readouterr().err
    code = main(["run", "--project", str(tmp_path / "nowhere")])
    assert code == 1 and "labelgate init" in capsys.readouterr().err


@pytest.mark.parametrize("flag", ["tests=*.csv", "test"])
def test_bad_split_flag_names_the_form(tmp_path, capsys, flag):
    assert _init(tmp_path, "--split", flag)[0] == 1
    assert "write ROLE=GLOB with ROLE one of train, dev, valid, test" in capsys.readouterr().err
