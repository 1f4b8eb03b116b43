"""Tracking: steps of one pipeline run land in one MLflow run, found by the pipeline run's id."""

from __future__ import annotations

from pathlib import Path

import pytest

from labelgate.registry.store import open_client
from labelgate.registry.tracking import (
    clean_key,
    flatten,
    log_step,
    numeric_items,
    track_step,
)


def test_flatten_and_numeric_items_keep_finite_numbers_only() -> None:
    values = {"a": {"b": 1, "c": "x", "d": True, "e": float("nan")}, "f": 2.5}
    assert flatten(values) == {"a.b": 1, "a.c": "x", "a.d": True, "a.e": values["a"]["e"], "f": 2.5}
    assert numeric_items(values) == {"a.b": 1.0, "f": 2.5}
    assert clean_key("evaluate/slice[caps>50%] f1") == "evaluate/slice_caps_50__ f1"


def test_steps_of_one_pipeline_run_share_an_mlflow_run(registry_uri: str, tmp_path: Path) -> None:
    report = tmp_path / "lf_analysis.md"
    report.write_text("# LF analysis\n")
    plots = tmp_path / "plots"
    plots.mkdir()
    (plots / "coverage.png").write_bytes(b"\x89PNG")
    first = log_step(registry_uri=registry_uri, experiment="spam", run_key="runs/1/p", step="weak_label",
                     params={"lfs": 10, "label_model": {"epochs": 100}}, metrics={"coverage": 0.93},
                     files={"lf_analysis.md": report, "plots": plots})
    second = log_step(registry_uri=registry_uri, experiment="spam", run_key="runs/1/p", step="evaluate",
                      metrics={"test": {"accuracy": 0.9, "f1": 0.88}, "blessed": True})
    other = log_step(registry_uri=registry_uri, experiment="spam", run_key="runs/2/p", step="evaluate",
                     metrics={"test": {"accuracy": 0.5}})
    assert first == second != other
    client = open_client(registry_uri)
    run = client.get_run(first)
    assert run.data.params == {"weak_label.lfs": "10", "weak_label.label_model.epochs": "100"}
    assert run.data.metrics == {"weak_label/coverage": 0.93, "evaluate/test.accuracy": 0.9, "evaluate/test.f1": 0.88}
    assert run.info.run_name == "runs/1/p" and run.data.tags["labelgate.pipeline_run"] == "runs/1/p"
    listed = {a.path for a in client.list_artifacts(first, "weak_label")}
    assert listed == {"weak_label/lf_analysis.md", "weak_label/plots"}
    # rerunning a step with another parameter value keeps the first (MLflow params are immutable)
    log_step(registry_uri=registry_uri, experiment="spam", run_key="runs/1/p", step="weak_label", params={"lfs": 11})
    assert client.get_run(first).data.params["weak_label.lfs"] == "10"


def test_track_step_logs_metadata_and_reports_with_their_plots(registry_uri: str, tmp_path: Path) -> None:
    evaluate, weak_label = tmp_path / "evaluate", tmp_path / "weak-label"
    (evaluate / "report_files").mkdir(parents=True)
    (evaluate / "report").write_text("<html></html>")
    (evaluate / "report_files" / "roc_curve.png").write_bytes(b"\x89PNG")
    weak_label.mkdir()
    (weak_label / "lf_analysis").write_text("# LFs")
    (weak_label / "lf_coverage.png").write_bytes(b"\x89PNG")

    run_id = track_step(registry_uri=registry_uri, model_name="spam", run_key="7f2e-41", step="evaluate",
                        params={"min_test_f1": 0.85}, metrics={"test_accuracy": 0.91},
                        metadata={"lf_analysis": {"lfs": 10, "mode": "auto"}, "data": {"rows": 1956, "fingerprint": "abc"}},
                        reports={"report.html": evaluate / "report", "lf_analysis.md": weak_label / "lf_analysis",
                                 "missing.md": tmp_path / "nowhere"})
    client = open_client(registry_uri)
    logged = client.get_run(run_id)
    assert logged.data.tags["labelgate.pipeline_run"] == "7f2e-41"
    assert logged.info.status == "FINISHED"
    assert logged.data.metrics == {"evaluate/test_accuracy": 0.91, "evaluate/lf_analysis.lfs": 10.0,
                                   "evaluate/data.rows": 1956.0}
    assert logged.data.params == {"evaluate.min_test_f1": "0.85", "evaluate.lf_analysis.mode": "auto",
                                  "evaluate.data.fingerprint": "abc"}
    files = {a.path for a in client.list_artifacts(run_id, "evaluate")}
    assert files == {"evaluate/report.html", "evaluate/report_files", "evaluate/lf_analysis.md",
                     "evaluate/lf_coverage.png"}


def test_track_step_failure_does_not_stop_the_step(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "not-a-dir").write_text("")
    broken = f"sqlite:///{tmp_path}/not-a-dir/mlflow.db"
    assert track_step(registry_uri=broken, model_name="spam", run_key="r", step="validate",
                      metrics={"rows": 3}) is None
    assert "warning: MLflow tracking failed" in capsys.readouterr().out
