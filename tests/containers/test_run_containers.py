"""`labelgate run --runner docker`: the real pipeline with every step in the component image."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from labelgate.pipelines.containers import STEP_UID
from labelgate.pipelines.local import REPAIR_OFF, STEPS
from labelgate.run import EXIT_OK

pytestmark = [pytest.mark.container, pytest.mark.e2e, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


def test_the_pipeline_runs_in_containers_and_pushes_to_the_registry_container(component_image, example_data,
                                                                              tmp_path):
    registry = tmp_path / "registry"
    command = [sys.executable, "-m", "labelgate.cli", "run", "--runner", "docker", "--runs-dir", str(tmp_path / "runs"),
               "--run-id", "containers", "--data", str(example_data), "--registry-uri", f"sqlite:///{registry}/mlflow.db"]
    env = {**os.environ, "LABELGATE_IMAGE": component_image, "PYTHONUNBUFFERED": "1"}
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env, timeout=1500)
    output = done.stdout + done.stderr
    assert done.returncode == EXIT_OK, output
    run_dir = tmp_path / "runs" / "containers"
    summary = json.loads((run_dir / "summary.json").read_text())
    # the example config has no repair section: that step passes the table through
    assert {s["name"]: s["status"] for s in summary["steps"]} == {name: "ok" for name in STEPS} | {"repair": REPAIR_OFF}
    assert summary["pushed"]["version"] == "1"
    assert "Exit code: 0" in output
    # The steps read the staged inputs, not this checkout, and wrote as the image's non-root user.
    assert summary["arguments"]["data_uri"] == str(example_data)
    executor_outputs = list(run_dir.rglob("executor_output.json"))
    assert executor_outputs and {path.stat().st_uid for path in executor_outputs} == {STEP_UID}
    assert (run_dir / "inputs" / "data_uri" / example_data.name / "Youtube01-Psy.csv").exists()
    # The registry container kept its store on this machine: the champion is there.
    from mlflow import MlflowClient

    store = f"sqlite:///{registry}/containers/mlflow.db"
    champion = MlflowClient(tracking_uri=store, registry_uri=store).get_model_version_by_alias("youtube-spam",
                                                                                               "champion")
    assert str(champion.version) == "1"
