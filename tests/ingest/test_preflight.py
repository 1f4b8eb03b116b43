"""Fail fast: every mistake in the config, LFs, suite, constraints or data is named before any step runs."""

import json
import re

import pandas as pd
import pytest

from labelgate.cli import main
from labelgate.errors import ConfigError, DataError
from labelgate.preflight import preflight

LFS = '''
from labelgate.labeling import keyword_lf
good = keyword_lf("good", ["great"], label=1, column="text")
bad = keyword_lf("bad", ["awful"], label=0, column="text")
'''
CONFIG = '''
data: {id_column: id, text_column: text, label_column: label, classes: [neg, pos]}
validation: {length_columns: [text], categorical_columns: [label]}
evaluation: {primary_metric: accuracy}
'''


def _project(tmp_path, *, config=CONFIG, lfs=LFS, suite_column="text", constraint="t1&t2&EQ(t1.id,t2.id)&IQ(t1.text,t2.text)"):
    data = tmp_path / "data"
    data.mkdir()
    words = ["great film", "awful plot", "fine", "great cast", "awful sound"]
    pd.DataFrame({"id": [f"t{i}" for i in range(30)], "text": [words[i % 5] for i in range(30)]}).to_csv(
        data / "train.csv", index=False)
    for role, n in (("valid", 8), ("test", 9)):
        pd.DataFrame({"id": [f"{role}{i}" for i in range(n)], "text": [words[i % 5] for i in range(n)],
                      "label": [("neg", "pos")[i % 2] for i in range(n)]}).to_csv(data / f"{role}.csv", index=False)
    (tmp_path / "config.yaml").write_text(config)
    (tmp_path / "lfs.py").write_text(lfs)
    (tmp_path / "suite.json").write_text(json.dumps({"name": "s", "expectations": [
        {"type": "expect_column_to_exist", "kwargs": {"column": suite_column}, "severity": "critical"}]}))
    (tmp_path / "constraints.txt").write_text(constraint + "\n")
    return {"data_uri": str(data), "lf_module": str(tmp_path / "lfs.py"), "config_path": str(tmp_path / "config.yaml"),
            "suite_path": str(tmp_path / "suite.json"), "constraints_path": str(tmp_path / "constraints.txt")}


def test_a_sound_project_passes_and_reports_roles(tmp_path):
    report = preflight(**_project(tmp_path))
    assert report.errors == []
    assert report.lf_names == ["good", "bad"]
    assert report.ingested.roles["test"]["rows"] == 9


def test_repair_and_feature_columns_are_checked_before_any_step(tmp_path):
    config = CONFIG + "training: {feature_columns: [label, plan]}\nrepair: {exclude_columns: [town], threshold: 2}\n"
    report = preflight(**_project(tmp_path, config=config))
    text = "\n".join(report.errors)
    assert "training.feature_columns names ['label']" in text and "cannot be model features" in text
    assert "training.feature_columns names ['plan'], not columns of the data" in text
    assert "repair.threshold" in text  # a bad repair setting, named with its key
    (tmp_path / "ok").mkdir()
    only = preflight(**_project(tmp_path / "ok", config=CONFIG + "repair: {exclude_columns: [town]}\n"))
    assert len(only.errors) == 1 and "repair.exclude_columns names ['town'], not columns of the data" in only.errors[0]


def test_every_problem_is_listed_at_once_with_file_key_and_fix(tmp_path):
    config = CONFIG.replace("evaluation: {primary_metric: accuracy}", "evaluation: {positive_class: spam}")
    config = config.replace("length_columns: [text]", "length_columns: [CONTENT]")
    paths = _project(tmp_path, config=config, suite_column="body",
                     constraint="t1&t2&EQ(t1.COMMENT_ID,t2.COMMENT_ID)&IQ(t1.text,t2.text)")
    report = preflight(**paths)
    text = "\n".join(report.errors)
    assert "evaluation.positive_class 'spam' is not one of data.classes ['neg', 'pos']" in text
    assert "validation.length_columns names ['CONTENT'], not columns of the data" in text
    assert f"expectation suite {paths['suite_path']}, expectation 0: column 'body' is not in the data" in text
    assert f"constraint file {paths['constraints_path']}, line 1: column(s) ['COMMENT_ID'] are not in the data" in text
    assert len(report.errors) == 4
    with pytest.raises(ConfigError, match=r"preflight: 4 problem\(s\) found before any step ran"):
        report.raise_if_failed()


@pytest.mark.parametrize(("lfs", "message"), [
    ("import nonexistent_package_xyz\n", "could not load LF module.*No module named 'nonexistent_package_xyz'"),
    ("x = 1\n", "defines no labeling functions"),
    (LFS + 'good2 = keyword_lf("good", ["fine"], label=1, column="text")\n', r"must be unique; repeated: \['good'\]"),
    (LFS.replace('column="text"', 'column="CONTENT"', 1), r"'good' raised KeyError.*the data's columns are"),
    (LFS.replace("label=1", "label=2"), r"returned 2 on row 0; votes must be -1 \(abstain\) or a class index 0..1"),
])
def test_lf_module_mistakes_are_caught_before_any_step(tmp_path, lfs, message):
    report = preflight(**_project(tmp_path, lfs=lfs))
    assert len(report.errors) == 1
    assert re.search(message, report.errors[0]), report.errors[0]


def test_data_problems_alone_reject_the_input(tmp_path):
    paths = _project(tmp_path)
    pd.DataFrame({"id": ["a"], "text": ["x"], "label": ["maybe"]}).to_csv(
        tmp_path / "data" / "test.csv", index=False)
    with pytest.raises(DataError, match=r"test.csv: column 'label' must hold a class name .*'maybe'"):
        preflight(**paths).raise_if_failed()


def test_labelgate_run_stops_before_any_step_on_a_mistake(tmp_path, capsys):
    paths = _project(tmp_path, suite_column="body")
    runs = tmp_path / "runs"
    code = main(["run", "--data", paths["data_uri"], "--lf-module", paths["lf_module"], "--config",
                 paths["config_path"], "--suite", paths["suite_path"], "--constraints", paths["constraints_path"],
                 "--runs-dir", str(runs)])
    assert code == 1
    assert "column 'body' is not in the data" in capsys.readouterr().err
    summary = json.loads(next(runs.glob("*/summary.json")).read_text())
    assert summary["failure"]["step"] == "preflight" and summary["exit_code"] == 1
    assert {step["status"] for step in summary["steps"]} == {"not run"}  # no step ran


@pytest.mark.parametrize("which", ["suite_path", "constraints_path"])
@pytest.mark.parametrize("bad", ["", "folder"])
def test_a_suite_or_constraints_path_that_is_no_file_is_named(tmp_path, which, bad):
    (tmp_path / "folder").mkdir()
    inputs = _project(tmp_path)
    inputs[which] = "" if bad == "" else str(tmp_path / "folder")
    report = preflight(**inputs)
    assert len(report.errors) == 1 and report.kinds == {"ConfigError"}
    assert "cannot read the" in report.errors[0] and "give the path of a" in report.errors[0]
