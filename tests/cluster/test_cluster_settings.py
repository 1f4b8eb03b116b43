"""The pipeline's kfp-kubernetes settings reach the compiled YAML, and kfp.local runs ignore them."""

# No `from __future__ import annotations`: KFP reads the component annotations as types.

import os
from pathlib import Path

import pytest
import yaml
from kfp import compiler, dsl, local

from labelgate.pipelines.cluster import (
    DATA_SECRET,
    DATA_SECRET_KEYS,
    REGISTRY_SECRET,
    STEP_RESOURCES,
    apply_cluster_settings,
)


@dsl.component(base_image="python:3.11-slim", install_kfp_package=False)
def ingest(text: str) -> str:
    import os

    return f"{text}:{os.environ.get('AWS_ACCESS_KEY_ID', 'unset')}"


@dsl.component(base_image="python:3.11-slim", install_kfp_package=False)
def train(text: str) -> str:
    return text.upper()


@dsl.pipeline(name="settings-check")
def two_steps(text: str = "a") -> str:
    first = ingest(text=text)
    second = train(text=first.output)
    apply_cluster_settings()
    return second.output


def _compiled(pipeline_func, tmp_path: Path) -> tuple[dict, dict]:
    path = tmp_path / "p.yaml"
    compiler.Compiler().compile(pipeline_func=pipeline_func, package_path=str(path))
    spec, platform = yaml.safe_load_all(path.read_text())
    return spec, platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]


def _check_settings(spec: dict, executors: dict) -> None:
    ingest_exec = executors["exec-ingest"]
    (secret,) = ingest_exec["secretAsEnv"]
    assert secret["secretNameParameter"]["runtimeValue"]["constant"] == DATA_SECRET
    assert secret["optional"] is True
    assert {m["envVar"] for m in secret["keyToEnv"]} == set(DATA_SECRET_KEYS)
    assert all(e["imagePullPolicy"] == "IfNotPresent" for e in executors.values())
    train_resources = spec["deploymentSpec"]["executors"]["exec-train"]["container"]["resources"]
    cpu_request, cpu_limit, memory_request, memory_limit = STEP_RESOURCES["train"]
    assert train_resources["resourceCpuLimit"] == cpu_limit and train_resources["resourceMemoryLimit"] == memory_limit
    assert "secretAsEnv" not in executors["exec-train"]


def test_settings_land_in_the_compiled_yaml(tmp_path):
    _check_settings(*_compiled(two_steps, tmp_path))


@pytest.mark.filterwarnings("ignore:.*have no effect in the current local runner")
def test_local_runs_ignore_the_cluster_settings(tmp_path, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    monkeypatch.chdir(tmp_path)
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(tmp_path / "root"))
    task = two_steps(text="x")
    assert task.output == "X:UNSET"  # ran, and no secret was injected locally


def test_outside_a_pipeline_it_says_where_to_call_it():
    with pytest.raises(RuntimeError, match="inside a @dsl.pipeline body"):
        apply_cluster_settings()


def test_the_real_pipeline_carries_the_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("LABELGATE_IMAGE", os.environ.get("LABELGATE_IMAGE", "labelgate-component:test"))
    from labelgate.pipelines import training

    spec, executors = _compiled(training.pipeline, tmp_path)
    _check_settings(spec, executors)
    for name in ("exec-validate", "exec-evaluate", "exec-push"):
        assert any(s["secretNameParameter"]["runtimeValue"]["constant"] == REGISTRY_SECRET
                   for s in executors[name]["secretAsEnv"]), name
