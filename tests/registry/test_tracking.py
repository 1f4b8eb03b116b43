"""Tracking: steps of one pipeline run land in one MLflow run, found through their artifact URIs."""

from __future__ import annotations

from pathlib import Path

import pytest

from labelgate.registry.store import open_client
from labelgate.registry.tracking import flatten, log_step, numeric_items, pipeline_run_key


@pytest.mark.parametrize(("uri", "key"), [
    ("/w/runs/abc/labelgate-training-2026/train/model", "/w/runs/abc/labelgate-training-2026"),
    ("/w/runs/abc/labelgate-training-2026/weak-label/probs", "/w/runs/abc/labelgate-training-2026"),
    ("minio://mlpipeline/v2/artifacts/labelgate-training/0b5c-41/evaluate/7f2e/blessing",
     "minio://mlpipeline/v2/artifacts/labelgate-training/0b5c-41"),
    ("gs://bucket/root/labelgate-training-123/train-2/model", "gs://bucket/root/labelgate-training-123"),
])
def test_pipeline_run_key_is_the_uri_before_the_task(uri: str, key: str) -> None:
    assert pipeline_run_key(uri) == key


def test_flatten_and_numeric_items_keep_finite_numbers_only() -> None:
    values = {"a": {"b": 1, "c": "x", "d": True, "e": float("nan")}, "f": 2.5}
    assert flatten(values) == {"a.b": 1, "a.c": "x", "a.d": True, "a.e": values["a"]["e"], "f": 2.5}
    assert numeric_items(values) == {"a.b": 1.0, "f": 2.5}


def test_steps_of_one_pipeline_run_share_an_mlflow_run(registry_uri: str, tmp_path: Path) -> None:
    report = tmp_path / "lf_analysis.md"
    report.write_text("# LF analysis\n")
    plots = tmp_path / "plots"
    plots.mkdir()
    (plots / "coverage.png").write_bytes(b"\x89PNG")
    first = log_step(registry_uri=registry_uri, experiment="spam", run_key="runs/1/p", step="weak_label",
                     params={"lfs": 10, "label_model": {"epochs": 100}}, metrics={"coverage": 0.93},
                     files={"lf_analysis": report, "plots": plots})
    second = log_step(registry_uri=registry_uri, experiment="spam", run_key="runs/1/p", step="evaluate",
                      metrics={"test": {"accuracy": 0.9, "f1": 0.88}, "blessed": True})
    other = log_step(registry_uri=registry_uri, experiment="spam", run_key="runs/2/p", step="evaluate",
                     metrics={"test": {"accuracy": 0.5}})
    assert first == second != other
    client = open_client(registry_uri)
    run = client.get_run(first)
    assert run.data.params == {"weak_label.lfs": "10", "weak_label.label_model.epochs": "100"}
    assert run.data.metrics == {"weak_label/coverage": 0.93, "evaluate/test.accuracy": 0.9, "evaluate/test.f1": 0.88}
    assert run.info.run_name == "p" and run.data.tags["labelgate.pipeline_run"] == "runs/1/p"
    listed = {a.path for a in client.list_artifacts(first, "weak_label")}
    assert listed == {"weak_label/lf_analysis.md", "weak_label/plots"}
    # rerunning a step with another parameter value keeps the first (MLflow params are immutable)
    log_step(registry_uri=registry_uri, experiment="spam", run_key="runs/1/p", step="weak_label", params={"lfs": 11})
    assert client.get_run(first).data.params["weak_label.lfs"] == "10"
