"""The compiled IR of the real pipeline, read as KFP 2.17's backend reads it: cache settings, parameter
defaults a run started without parameters gets, and image pull secrets."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from labelgate.pipelines.cluster import PULL_SECRET

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compiled(tmp_path_factory) -> tuple[dict, dict]:
    """`labelgate compile` in a fresh process (the defaults are read from the environment at import)."""
    path = tmp_path_factory.mktemp("compiled") / "pipeline.yaml"
    subprocess.run([sys.executable, "-m", "labelgate.cli", "compile", "--output", str(path)], cwd=ROOT, check=True,
                   capture_output=True, text=True)
    spec, platform = yaml.safe_load_all(path.read_text())
    return spec, platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]


def _tasks(component: dict) -> dict:
    return component["dag"]["tasks"]


def _all_tasks(spec: dict) -> dict:
    tasks = dict(_tasks(spec["root"]))
    for component in spec["components"].values():
        if "dag" in component:
            tasks.update(_tasks(component))
    return tasks


def test_no_step_reuses_a_cached_result(compiled):
    """Defect 3: 2.17 keys its cache on inputs, image and command, so a retrain on the same data_uri would
    reuse the first run's ingest (and everything after it). Every executing task must disable caching."""
    spec, _ = compiled
    executing = {name: task for name, task in _all_tasks(spec).items() if "componentRef" in task
                 and "executorLabel" in spec["components"][task["componentRef"]["name"]]}
    assert {"ingest", "weak-label", "train", "evaluate", "push"} <= set(executing)
    # IR is proto3 JSON: enableCache false is written as an empty cachingOptions.
    cached = [name for name, task in executing.items() if task.get("cachingOptions", {}).get("enableCache", False)]
    assert cached == []


def test_a_run_without_parameters_reads_the_cluster_data_and_registry(compiled):
    """Defect 6: the KFP UI and `labelgate trigger` start runs with the compiled defaults; a checkout path
    (../shared/...) or a SQLite file under the image's root-owned /app cannot work in a pod."""
    spec, _ = compiled
    defaults = {name: p.get("defaultValue") for name, p in spec["root"]["inputDefinitions"]["parameters"].items()}
    assert defaults["data_uri"] == "s3://mlpipeline/labelgate/data/youtube-spam"
    assert defaults["registry_uri"] == "http://labelgate-mlflow:5000"
    # The file parameters resolve inside the image (WORKDIR /app holds examples/).
    for name in ("lf_module", "config_path", "suite_path", "constraints_path"):
        assert (ROOT / defaults[name]).exists()


def test_the_defaults_follow_the_environment_at_compile_time(tmp_path):
    path = tmp_path / "p.yaml"
    env = {"LABELGATE_DATA_URI": "s3://bucket/incoming", "LABELGATE_REGISTRY_URI": "http://mlflow.ml:5000"}
    import os

    subprocess.run([sys.executable, "-m", "labelgate.cli", "compile", "--output", str(path)], cwd=ROOT, check=True,
                   capture_output=True, env={**os.environ, **env})
    spec = next(yaml.safe_load_all(path.read_text()))
    parameters = spec["root"]["inputDefinitions"]["parameters"]
    assert parameters["data_uri"]["defaultValue"] == "s3://bucket/incoming"
    assert parameters["registry_uri"]["defaultValue"] == "http://mlflow.ml:5000"


def test_every_step_pulls_with_the_pull_secret(compiled):
    """Defect 7: GHCR packages start private; every step's pod carries the pull secret."""
    _, executors = compiled
    assert executors
    for name, executor in executors.items():
        assert [s["secretName"] for s in executor.get("imagePullSecret", [])] == [PULL_SECRET], name
