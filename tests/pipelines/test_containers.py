"""pipelines/containers.py without an engine: staging inputs, the registry's manifest command, memory
quantities, and a step judged by its outputs when its container vanished."""

from __future__ import annotations

import stat
from pathlib import Path

from labelgate.pipelines.containers import check_outputs, docker_memory, registry_command, stage_inputs
from labelgate.pipelines.local import StepRecord


def test_local_inputs_are_copied_into_the_run_and_uris_pass_through(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.csv").write_text("x\n")
    lfs = tmp_path / "lfs.py"
    lfs.write_text("")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    staged = stage_inputs({"data_uri": str(data), "lf_module": str(lfs), "config_path": "s3://b/config.yaml",
                           "suite_path": "package.module", "seed": 3}, run_dir)
    assert Path(staged["data_uri"]) == run_dir / "inputs" / "data_uri" / "data"
    assert (Path(staged["data_uri"]) / "a.csv").read_text() == "x\n"
    assert Path(staged["lf_module"]).parent == run_dir / "inputs" / "lf_module"
    assert staged["config_path"] == "s3://b/config.yaml" and staged["suite_path"] == "package.module"
    assert staged["seed"] == 3
    # Readable by the steps' user (not the owner).
    assert Path(staged["lf_module"]).stat().st_mode & stat.S_IROTH


def test_the_registry_runs_the_manifest_command():
    command, env, limit = registry_command()
    assert command[:2] == ["mlflow", "server"]
    assert "--port=5000" in command and "--serve-artifacts" in command
    assert env["HOME"] == "/tmp" and limit


def test_memory_quantities():
    assert docker_memory("1Gi") == str(2**30)
    assert docker_memory("1536Mi") == str(1536 * 2**20)
    assert docker_memory("2G") == str(2 * 10**9)


def test_a_step_reported_ok_without_its_outputs_failed(tmp_path):
    """kfp 2.17 reports success when an auto-removed container is gone before it is waited on."""
    (tmp_path / "ingest").mkdir()
    (tmp_path / "ingest" / "executor_output.json").write_text("{}")
    for i in range(2):
        (tmp_path / f"for-loop-1-iteration-{i}" / "apply-lfs").mkdir(parents=True)
    (tmp_path / "for-loop-1-iteration-0" / "apply-lfs" / "executor_output.json").write_text("{}")
    steps = {"ingest": StepRecord("ingest", status="ok", runs=1),
             "apply-lfs": StepRecord("apply-lfs", status="ok", runs=2),
             "train": StepRecord("train", status="not run")}
    assert check_outputs(steps, tmp_path) == ["apply-lfs"]
    assert steps["ingest"].status == "ok" and steps["apply-lfs"].status == "FAILED"
    assert steps["train"].status == "not run"
