"""The cluster's registry shape: an MLflow tracking server with proxied artifacts (mlflow-artifacts:/ URIs),
here on loopback (the `mlflow_server` fixture in conftest.py). Push, champion lookup and rollback go through its REST API only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from labelgate.registry import champion_file, champion_model_dir, rollback
from labelgate.registry.push import push_model
from labelgate.registry.store import list_versions
from labelgate.training import load_predictor

pytestmark = pytest.mark.slow


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
