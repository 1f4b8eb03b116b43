import json

import numpy as np
import pytest

from labelgate.validation import step as step_module
from labelgate.validation.step import run_validate

from .tiny import make_frame, weak_labels

CONFIG = """validation:
  length_columns: [CONTENT]
  categorical_columns: [CLASS]
  max_examples: 3
"""


@pytest.fixture
def inputs(tmp_path, suite):
    """Artifacts as the pipeline hands them over, plus output paths."""
    frame = make_frame(200)
    votes, names, probs = weak_labels(frame)
    paths = {
        "data_path": tmp_path / "data.parquet", "label_matrix_path": tmp_path / "lm.npy",
        "probs_path": tmp_path / "probs.parquet", "suite_path": tmp_path / "suite.json",
        "constraints_path": tmp_path / "dc.txt", "config_path": tmp_path / "config.yaml",
        "report_path": tmp_path / "out" / "report.md", "report_html_path": tmp_path / "out" / "report.html",
        "profile_path": tmp_path / "out" / "profile.json",
    }
    frame.to_parquet(paths["data_path"], index=False)
    np.save(paths["label_matrix_path"], votes)
    probs.to_parquet(paths["probs_path"], index=False)
    paths["suite_path"].write_text(json.dumps(suite))
    paths["constraints_path"].write_text("t1&t2&EQ(t1.COMMENT_ID,t2.COMMENT_ID)&IQ(t1.CONTENT,t2.CONTENT)\n")
    paths["config_path"].write_text(CONFIG)
    args = {k: str(v) for k, v in paths.items()}
    args.update(lf_names=names, registry_uri=f"sqlite:///{tmp_path}/registry/mlflow.db", model_name="m")
    return frame, args


def _no_champion(monkeypatch):
    monkeypatch.setattr(step_module, "champion_profile", lambda registry_uri, model_name: (None, None))


def test_clean_data_passes_and_writes_reports_and_profile(inputs, monkeypatch):
    _no_champion(monkeypatch)
    _, args = inputs
    passed, reason, metrics = run_validate(**args)
    assert passed, reason
    assert reason.startswith("passed: 6 expectations, 1 constraints") and "drift skipped" in reason
    assert metrics["passed"] == 1.0 and metrics["rows"] == 200.0 and metrics["critical_failures"] == 0.0
    profile = json.loads(open(args["profile_path"]).read())
    assert set(profile["lf_coverage"]) == {"lf_check", "lf_subscribe", "lf_song"}
    assert "# Data validation: PASSED" in open(args["report_path"]).read()
    html = open(args["report_html_path"]).read()
    assert "Data validation: PASSED" in html and "never be null" in html  # GX Data Docs rendering


def test_reason_lists_every_critical_failure_with_examples(inputs, monkeypatch):
    _no_champion(monkeypatch)
    frame, args = inputs
    frame.loc[4, "CLASS"] = 9
    frame.loc[7, "COMMENT_ID"] = "id8"  # duplicate id, different text: expectation + constraint
    frame.loc[11, "AUTHOR"] = None  # warning only
    frame.to_parquet(args["data_path"], index=False)
    passed, reason, metrics = run_validate(**args)
    assert not passed
    assert reason.startswith("blocked by 3 critical check(s): ")
    assert "expect_column_values_to_be_in_set(CLASS): 1 of 200 rows" in reason and "'9'" in reason
    assert "expect_column_values_to_be_unique(COMMENT_ID): 2 of 200 rows" in reason
    assert "EQ(t1.COMMENT_ID,t2.COMMENT_ID)" in reason and "(rows 7, 8)" in reason
    assert "AUTHOR" not in reason
    report = open(args["report_path"]).read()
    assert "# Data validation: BLOCKED" in report and "**warning** expectation" in report
    assert metrics["critical_failures"] == 3.0 and metrics["warnings"] == 1.0


def test_unreadable_data_fails_closed(inputs, monkeypatch):
    _no_champion(monkeypatch)
    _, args = inputs
    with open(args["data_path"], "wb") as fh:
        fh.write(b"not parquet at all")
    passed, reason, _ = run_validate(**args)
    assert not passed and reason.startswith("validation crashed: ")
    assert "BLOCKED" in open(args["report_path"]).read()
    assert json.loads(open(args["profile_path"]).read())["error"]


def test_a_bug_inside_validation_fails_closed(inputs, monkeypatch):
    _no_champion(monkeypatch)

    def broken(**kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(step_module, "validate_data", broken)
    passed, reason, metrics = run_validate(**inputs[1])
    assert (passed, reason) == (False, "validation crashed: ZeroDivisionError: division by zero")
    assert metrics["passed"] == 0.0


def test_a_bad_config_fails_closed(inputs, monkeypatch):
    _no_champion(monkeypatch)
    _, args = inputs
    open(args["config_path"], "w").write("validation:\n  max_js_distance: 7\n")
    passed, reason, _ = run_validate(**args)
    assert not passed and "ConfigError" in reason and "max_js_distance" in reason


def test_drift_against_the_champion_profile_blocks(inputs, tmp_path, monkeypatch):
    frame, args = inputs
    _no_champion(monkeypatch)
    run_validate(**args)
    champion = tmp_path / "champion" / "profile.json"
    champion.parent.mkdir()
    champion.write_text(open(args["profile_path"]).read())
    monkeypatch.undo()

    calls = []

    def fake_champion_file(registry_uri, model_name, name):
        calls.append((registry_uri, model_name, name))
        return champion

    monkeypatch.setattr(step_module, "champion_file", fake_champion_file)
    frame["CONTENT"] = frame["CONTENT"].str.replace("subscribe", "follow", regex=False)
    frame.to_parquet(args["data_path"], index=False)
    votes, _, probs = weak_labels(frame)
    np.save(args["label_matrix_path"], votes)
    probs.to_parquet(args["probs_path"], index=False)
    passed, reason, metrics = run_validate(**args)
    assert calls == [(args["registry_uri"], "m", "profile.json")]
    assert not passed
    assert "drift: LF 'lf_subscribe' coverage" in reason and "collapsed" in reason
    assert metrics["drift_failed"] >= 1


def test_same_data_as_champion_passes_drift(inputs, tmp_path, monkeypatch):
    _, args = inputs
    _no_champion(monkeypatch)
    run_validate(**args)
    reference = json.loads(open(args["profile_path"]).read())
    monkeypatch.setattr(step_module, "champion_profile", lambda registry_uri, model_name: (reference, None))
    passed, reason, metrics = run_validate(**args)
    assert passed, reason
    assert metrics["drift_checks"] >= 5 and metrics["drift_failed"] == 0


def test_the_html_report_shows_the_drift_picture_only_with_a_champion(inputs, monkeypatch):
    _, args = inputs
    _no_champion(monkeypatch)
    run_validate(**args)
    # (the Data Docs page below has GX's logo inlined as a PNG too: look for the drift picture itself)
    assert '<img alt="drift" src="data:image/png;base64,' not in open(args["report_html_path"]).read()
    reference = json.loads(open(args["profile_path"]).read())
    monkeypatch.setattr(step_module, "champion_profile", lambda registry_uri, model_name: (reference, None))
    run_validate(**args)
    assert '<img alt="drift" src="data:image/png;base64,iVBORw0KGgo' in open(args["report_html_path"]).read()


def test_an_unreadable_champion_profile_skips_drift_with_a_note(tmp_path, monkeypatch):
    broken = tmp_path / "profile.json"
    broken.write_text("{not json")
    monkeypatch.setattr(step_module, "champion_file", lambda registry_uri, model_name, name: broken)
    profile, note = step_module.champion_profile("sqlite:///x.db", "m")
    assert profile is None and "unreadable" in note
    monkeypatch.setattr(step_module, "champion_file", lambda registry_uri, model_name, name: None)
    assert step_module.champion_profile("sqlite:///x.db", "m") == (None, None)


def test_probabilities_in_any_row_order_are_accepted_but_foreign_rows_block(inputs, monkeypatch):
    import pandas as pd

    _no_champion(monkeypatch)
    _, args = inputs
    probs = pd.read_parquet(args["probs_path"])
    probs.iloc[::-1].to_parquet(args["probs_path"], index=False)
    assert run_validate(**args)[0]
    probs.assign(row=probs["row"] + 1).to_parquet(args["probs_path"], index=False)
    passed, reason, _ = run_validate(**args)
    assert not passed and "they come from different runs" in reason


def test_a_profile_of_another_format_version_skips_drift(tmp_path, monkeypatch):
    old = tmp_path / "profile.json"
    old.write_text(json.dumps({"version": 0, "numeric": {}}))
    monkeypatch.setattr(step_module, "champion_file", lambda registry_uri, model_name, name: old)
    profile, note = step_module.champion_profile("sqlite:///x.db", "m")
    assert profile is None and "format version 0" in note
