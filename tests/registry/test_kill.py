"""A push that is killed leaves nothing behind: no model server, no version stuck at ``registered``, no
RUNNING MLflow run, no partial upload; and a push still at work is never taken for a dead one."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from labelgate.champion import champion_version
from labelgate.cli import main
from labelgate.registry.lease import FAILURE_TAG, PUSH_STATE_TAG, reconcile
from labelgate.registry.push import push_model
from labelgate.registry.store import BUNDLE_ARTIFACT_PATH, STATUS_TAG, open_client

pytestmark = pytest.mark.slow

WORKER = Path(__file__).with_name("workers.py")


def _gone(pid: int) -> bool:
    """True once ``pid`` has exited (a zombie waiting to be reaped counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state in ("Z", "X")


def _wait_for(check, what: str, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.1)


def _start(tmp_path: Path, verb: str, spec: dict) -> tuple[subprocess.Popen, Path]:
    pid_file = tmp_path / f"{verb}.pid"
    spec = {**spec, "ready": str(tmp_path / f"{verb}.ready"), "go": str(tmp_path / f"{verb}.ready"),
            "pid": str(pid_file)}
    proc = subprocess.Popen([sys.executable, str(WORKER), verb, json.dumps(spec)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    return proc, pid_file


def _wait_file(proc: subprocess.Popen, path: Path) -> str:
    def there() -> bool:
        assert proc.poll() is None, proc.communicate()[0]
        return path.exists() and path.read_text() != ""

    _wait_for(there, f"{path.name}", timeout_s=300)
    return path.read_text()


def _push_spec(model_dir: Path, uri: str, profile: Path, blessing: Path, run: str, **extra) -> dict:
    return {"push": {"model_dir": str(model_dir), "profile_path": str(profile), "blessing_path": str(blessing),
                     "registry_uri": uri, "model_name": "spam", "run_key": run, **extra}}


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_a_push_killed_during_infra_validation_leaves_no_server(
        registry_uri: str, model_dirs: list[Path], profile: Path, blessing: Path, tmp_path: Path, sig: int) -> None:
    proc, pid_file = _start(tmp_path, "hold-infra", _push_spec(model_dirs[0], registry_uri, profile, blessing, "r"))
    server = int(_wait_file(proc, pid_file))
    assert not _gone(server)
    proc.send_signal(sig)
    proc.wait(timeout=60)
    _wait_for(lambda: _gone(server), f"the model server (pid {server}) to die with its push")
    assert champion_version(open_client(registry_uri), "spam") is None


def test_a_step_whose_shell_wrapper_is_killed_is_terminated(tmp_path: Path) -> None:
    spec = {"ready": str(tmp_path / "ready"), "pid": str(tmp_path / "out")}
    # `; true` keeps the shell alive as the parent (it would exec a lone command)
    shell = subprocess.Popen(["sh", "-c", f"{sys.executable} {WORKER} orphan '{json.dumps(spec)}'; true"])
    _wait_for(lambda: Path(spec["ready"]).exists(), "the step to start", timeout_s=120)
    shell.kill()
    shell.wait(timeout=30)
    _wait_for(lambda: Path(spec["pid"]).exists(), "the orphaned step to get SIGTERM", timeout_s=60)
    assert Path(spec["pid"]).read_text() == "terminated"


def test_a_killed_push_is_reconciled_and_a_live_one_is_not(
        registry_uri: str, model_dirs: list[Path], profile: Path, blessing: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    push_model(model_dir=model_dirs[0], profile_path=profile, blessing_path=blessing, registry_uri=registry_uri,
               model_name="spam", run_key="r1", infra_validate=False)
    proc, pid_file = _start(tmp_path, "hold-verify", _push_spec(
        model_dirs[1], registry_uri, profile, blessing, "r2", infra_validate=False, lease_s=1.0))
    version = _wait_file(proc, pid_file)
    client = open_client(registry_uri)
    mv = client.get_model_version("spam", version)
    assert mv.tags[STATUS_TAG] == "registered"
    assert client.list_artifacts(mv.run_id, BUNDLE_ARTIFACT_PATH)
    time.sleep(3.0)  # three lease lengths: a push that renews its lease keeps it
    assert reconcile(registry_uri, "spam") == []
    assert client.get_model_version("spam", version).tags[STATUS_TAG] == "registered"
    assert client.get_run(mv.run_id).info.status == "RUNNING"

    proc.kill()
    proc.wait(timeout=30)
    time.sleep(1.5)  # past the lease it can no longer renew
    capsys.readouterr()
    assert main(["models", "list", "--registry-uri", registry_uri, "--model-name", "spam"]) == 0
    out = capsys.readouterr().out
    assert f"reconciled a push that died: version {version}: registered -> failed" in out
    assert any(line.split()[:2] == [version, "failed"] for line in out.splitlines())
    mv = client.get_model_version("spam", version)
    assert mv.tags[STATUS_TAG] == "failed" and "lease" in mv.tags[FAILURE_TAG]
    run = client.get_run(mv.run_id)
    assert run.info.status == "FAILED" and run.data.tags[PUSH_STATE_TAG] == "died"
    assert client.list_artifacts(mv.run_id, BUNDLE_ARTIFACT_PATH) == []  # the orphaned upload is gone
    assert champion_version(client, "spam") == "1"
    assert reconcile(registry_uri, "spam") == []  # once is enough


def test_a_push_killed_before_registering_has_its_run_failed_and_upload_removed(
        registry_uri: str, model_dirs: list[Path], profile: Path, blessing: Path) -> None:
    spec = _push_spec(model_dirs[0], registry_uri, profile, blessing, "r1", infra_validate=False, lease_s=1.0)
    proc = subprocess.Popen([sys.executable, "-c", (
        "import json, os, signal\n"
        "from mlflow import MlflowClient\n"  # dies after the upload, before the version exists
        "MlflowClient.create_model_version = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)\n"
        "from labelgate.registry.push import push_model\n"
        f"push_model(**json.loads({json.dumps(json.dumps(spec['push']))}))\n")])
    assert proc.wait(timeout=300) == -signal.SIGKILL
    client = open_client(registry_uri)
    (run,) = client.search_runs([client.get_experiment_by_name("spam").experiment_id])
    assert run.info.status == "RUNNING" and client.list_artifacts(run.info.run_id, BUNDLE_ARTIFACT_PATH)
    time.sleep(1.5)
    (line,) = reconcile(registry_uri, "spam")
    assert "its push died" in line
    run = client.get_run(run.info.run_id)
    assert run.info.status == "FAILED" and client.list_artifacts(run.info.run_id, BUNDLE_ARTIFACT_PATH) == []


def test_sigterm_fails_the_version_and_the_run_at_once(
        registry_uri: str, model_dirs: list[Path], profile: Path, blessing: Path, tmp_path: Path) -> None:
    proc, pid_file = _start(tmp_path, "hold-verify", _push_spec(
        model_dirs[0], registry_uri, profile, blessing, "r1", infra_validate=False))
    version = _wait_file(proc, pid_file)
    proc.terminate()
    proc.wait(timeout=60)
    client = open_client(registry_uri)
    mv = client.get_model_version("spam", version)
    assert mv.tags[STATUS_TAG] == "failed" and "Terminated" in mv.tags[FAILURE_TAG]
    run = client.get_run(mv.run_id)
    assert run.info.status == "FAILED" and run.data.tags[PUSH_STATE_TAG] == "failed"
    assert champion_version(client, "spam") is None
