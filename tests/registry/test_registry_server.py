"""The cluster's registry shape: an MLflow tracking server with proxied artifacts (mlflow-artifacts:/ URIs),
here on loopback. Push, champion lookup and rollback go through its REST API only."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from labelgate.registry import champion_file, champion_model_dir, rollback
from labelgate.registry.push import push_model
from labelgate.registry.store import list_versions
from labelgate.serving.infra import free_port, wait_ready
from labelgate.training import load_predictor

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("mlflow-server")
    port = free_port()
    log = root / "server.log"
    with log.open("w") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", f"sqlite:///{root}/mlflow.db",
             "--artifacts-destination", str(root / "artifacts"), "--serve-artifacts", "--host", "127.0.0.1",
             "--port", str(port), "--workers", "1"], stdout=fh, stderr=subprocess.STDOUT, cwd=root,
            env={**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}, start_new_session=True)
    try:
        wait_ready(url=f"http://127.0.0.1:{port}/health", proc=proc, timeout_s=180, log_path=log)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError):  # the server's own workers, in the session it leads
            os.killpg(proc.pid, signal.SIGTERM)


def test_push_and_rollback_through_a_tracking_server(mlflow_server: str, model_dirs: list[Path], profile: Path,
                                                     blessing: Path) -> None:
    for i in (0, 1):
        push_model(model_dir=model_dirs[i], profile_path=profile, blessing_path=blessing, registry_uri=mlflow_server,
                   model_name="spam-server", run_key=f"runs/{i}/p", infra_validate=False)
    versions = list_versions(mlflow_server, "spam-server")
    assert [v.version for v in versions] == ["2", "1"]
    assert all(v.source.startswith("mlflow-artifacts:/") for v in versions)
    texts = ["free gift cards", "lovely song"]
    served = load_predictor(champion_model_dir(mlflow_server, "spam-server")).predict_proba(texts)
    np.testing.assert_allclose(served, load_predictor(model_dirs[1]).predict_proba(texts), atol=1e-7)
    assert champion_file(mlflow_server, "spam-server", "profile.json").read_text() == profile.read_text()
    assert rollback(mlflow_server, "spam-server") == ("2", "1")
    served = load_predictor(champion_model_dir(mlflow_server, "spam-server")).predict_proba(texts)
    np.testing.assert_allclose(served, load_predictor(model_dirs[0]).predict_proba(texts), atol=1e-7)
