"""The cluster Make targets, as a user runs them here: clear errors without Docker/kind/a cluster, and a
full compile -> upload -> run/schedule round trip against the KFP API stand-in."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
import yaml
from ci_needs import needs

ROOT = Path(__file__).resolve().parents[2]
HIDDEN = ("kind", "kubectl", "docker")


@pytest.fixture(scope="module")
def path_without_cluster_tools(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A PATH with every usual command except kind, kubectl and docker."""
    needs(shutil.which("make") is not None, "make is not installed")
    farm = tmp_path_factory.mktemp("bin")
    for folder in ("/usr/local/bin", "/usr/bin", "/bin"):
        if not os.path.isdir(folder):
            continue
        for entry in os.scandir(folder):
            target = farm / entry.name
            if entry.name not in HIDDEN and not target.exists():
                target.symlink_to(entry.path)
    return str(farm)


def _make(*args: str, path: str | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": path or os.environ["PATH"]}
    env.pop("KFP_HOST", None)
    # -o: never reinstall .venv from inside a test, whatever pyproject.toml's timestamp says.
    return subprocess.run(["make", "--no-print-directory", "-o", ".venv/.installed", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)


@pytest.mark.parametrize(("target", "missing"), [("run-local", "kind, kubectl, docker"), ("image", "docker")])
def test_missing_tools_are_named(path_without_cluster_tools, target, missing):
    done = _make(target, path=path_without_cluster_tools)
    assert done.returncode != 0
    assert f"make {target} needs {missing}, not found on PATH" in done.stderr
    assert "https://" in done.stderr and "Traceback" not in done.stderr + done.stdout


def test_docker_without_an_engine_is_explained(tmp_path):
    fake = tmp_path / "docker"
    fake.write_text("#!/bin/sh\n[ \"$1\" = info ] && { echo 'Cannot connect to the Docker daemon' >&2; exit 1; }\nexit 0\n")
    fake.chmod(0o755)
    done = _make("image", path=f"{tmp_path}:{os.environ['PATH']}")
    assert done.returncode != 0
    assert "needs a running Docker engine" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("target", ["submit", "schedule"])
def test_submit_without_host_says_what_to_set(target):
    done = _make(target)
    assert done.returncode != 0
    assert f"make {target}: set KFP_HOST" in done.stderr and "port-forward" in done.stderr


def test_submit_to_an_unreachable_host_fails_cleanly(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    done = _make("submit", f"KFP_HOST=http://127.0.0.1:{port}", f"PIPELINE_YAML={tmp_path / 'p.yaml'}")
    assert done.returncode != 0
    assert f"cannot reach the KFP API at http://127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_make_schedule_and_submit_reach_the_api(kfp_server, tmp_path):
    """The real pipeline, compiled with the commit-tagged image, uploaded as versions, run and scheduled."""
    package = tmp_path / "p.yaml"
    common = [f"KFP_HOST={kfp_server.url}", f"PIPELINE_YAML={package}", "IMAGE_TAG=test123"]
    done = _make("schedule", *common, "CRON=30 2 * * 1")
    assert done.returncode == 0, done.stderr
    done = _make("submit", *common, "SUBMIT_ARGS=", "KFP_DATA_URI=s3://bucket/new-data")
    assert done.returncode == 0, done.stderr

    spec = next(yaml.safe_load_all(package.read_text()))
    images = {e["container"]["image"] for e in spec["deploymentSpec"]["executors"].values()}
    assert images == {"labelgate-component:test123"}
    (recurring,) = kfp_server.state.recurring.values()
    assert recurring["trigger"]["cron_schedule"]["cron"] == "0 30 2 * * 1"
    (run,) = kfp_server.state.runs.values()
    assert run["runtime_config"]["parameters"] == {"data_uri": "s3://bucket/new-data",
                                                   "registry_uri": "http://labelgate-mlflow:5000",
                                                   "inference_service": "labelgate-spam",
                                                   "serving_image": "labelgate-serving:test123",
                                                   "prediction_log": "s3://mlpipeline/labelgate/predictions/youtube-spam"}
    versions = kfp_server.state.versions[run["pipeline_version_reference"]["pipeline_id"]]
    assert [v["display_name"].split("-")[0] for v in versions[1:]] == ["test123"]  # second upload: a version
    assert run["pipeline_version_reference"]["pipeline_version_id"] == versions[-1]["pipeline_version_id"]
