"""The push component through its python_func: KFP artifacts in, a served-and-verified champion out."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from kfp import dsl

from labelgate.components.push import push
from labelgate.registry import champion_file, champion_model_dir
from labelgate.registry.store import list_versions
from labelgate.training import load_predictor


@pytest.fixture
def artifacts(tmp_path: Path, model_dirs: list[Path]) -> dict[str, dsl.Artifact]:
    run = tmp_path / "runs" / "r1" / "labelgate-training-20260101"
    model = dsl.Model(uri=str(run / "train" / "model"), metadata={"valid_accuracy": 0.875})
    shutil.copytree(model_dirs[0], model.path)
    profile = dsl.Dataset(uri=str(run / "validate" / "profile"))
    Path(profile.path).parent.mkdir(parents=True)
    Path(profile.path).write_text(json.dumps({"rows": 8}))
    blessing = dsl.Artifact(uri=str(run / "evaluate" / "blessing"))
    Path(blessing.path).parent.mkdir(parents=True)
    Path(blessing.path).write_text(json.dumps({
        "blessed": True, "reason": "first model", "challenger": {"accuracy": 0.9, "f1": 0.91},
        "lineage": {"data": {"fingerprint": "4f33", "data_uri": "../shared/data/youtube-spam"}}}))
    pushed = dsl.Markdown(uri=str(run / "push" / "pushed"))
    return {"model": model, "profile": profile, "blessing": blessing, "pushed": pushed}


@pytest.mark.slow
def test_push_component_registers_and_promotes(tmp_path: Path, artifacts: dict[str, dsl.Artifact],
                                               tiny_texts: list[str]) -> None:
    registry_uri = f"sqlite:///{tmp_path}/mlruns/mlflow.db"
    outputs = push.python_func(registry_uri=registry_uri, model_name="spam", pipeline_run="run-1", **artifacts)
    assert outputs.version == "1"
    summary = Path(artifacts["pushed"].path).read_text()
    assert "# Pushed `spam` version 1" in summary and "infra-validation: server ready" in summary
    served = load_predictor(champion_model_dir(registry_uri, "spam")).predict_proba(tiny_texts)
    np.testing.assert_allclose(served, load_predictor(artifacts["model"].path).predict_proba(tiny_texts), atol=1e-7)
    assert json.loads(champion_file(registry_uri, "spam", "profile.json").read_text()) == {"rows": 8}
    (version,) = list_versions(registry_uri, "spam")
    assert version.tags["labelgate.pipeline_run"] == "run-1"
    assert version.tags["labelgate.model_uri"] == artifacts["model"].uri
    assert version.tags["labelgate.data_fingerprint"] == "4f33"
    assert version.tags["labelgate.data_uri"] == "../shared/data/youtube-spam"
    assert (version.tags["labelgate.test_accuracy"], version.tags["labelgate.test_f1"]) == ("0.9000", "0.9100")


def test_push_component_refuses_an_unblessed_model(tmp_path: Path, artifacts: dict[str, dsl.Artifact]) -> None:
    Path(artifacts["blessing"].path).write_text(json.dumps({"blessed": False, "reason": "f1 0.4 < 0.85"}))
    with pytest.raises(SystemExit) as exit_info:
        push.python_func(registry_uri=f"sqlite:///{tmp_path}/mlruns/mlflow.db", model_name="spam",
                         pipeline_run="run-1", **artifacts)
    assert exit_info.value.code == 1
    failure = json.loads((Path(artifacts["pushed"].path).parent / "failure.json").read_text())
    assert failure["step"] == "push" and failure["error"] == "RegistryError"
    assert "not blessed (f1 0.4 < 0.85)" in failure["message"]
