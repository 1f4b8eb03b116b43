"""Registry fixtures: an MLflow tracking server on loopback (the cluster's registry shape: SQLite backend,
proxied artifacts, REST only), and a registry URI of either kind for the compare-and-set tests."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from labelgate.serving.infra import free_port, wait_ready


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("mlflow-server")
    port = free_port()
    log = root / "server.log"
    with log.open("w") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", f"sqlite:///{root}/mlflow.db",
             "--artifacts-destination", str(root / "artifacts"), "--serve-artifacts", "--host", "127.0.0.1",
             "--port", str(port), "--workers", "2"], stdout=fh, stderr=subprocess.STDOUT, cwd=root,
            env={**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}, start_new_session=True)
    try:
        wait_ready(url=f"http://127.0.0.1:{port}/health", proc=proc, timeout_s=180, log_path=log)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError):  # the server's own workers, in the session it leads
            os.killpg(proc.pid, signal.SIGTERM)


@pytest.fixture(params=["sqlite", "http"])
def any_registry(request: pytest.FixtureRequest, tmp_path: Path, empty_registry_db: Path) -> tuple[str, str]:
    """(registry URI, a model name of its own): a fresh SQLite file, or the shared tracking server over HTTP."""
    if request.param == "http":
        return request.getfixturevalue("mlflow_server"), f"spam-{uuid.uuid4().hex[:8]}"
    import shutil

    (tmp_path / "mlruns").mkdir()
    shutil.copyfile(empty_registry_db, tmp_path / "mlruns" / "mlflow.db")
    return f"sqlite:///{tmp_path}/mlruns/mlflow.db", "spam"
