"""Push, promote, rollback against a real local MLflow registry (SQLite + artifact folder)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from labelgate.errors import RegistryError
from labelgate.registry import champion_file, champion_model_dir, promote, rollback
from labelgate.registry.push import push_model
from labelgate.registry.store import STATUS_TAG, list_versions, open_client
from labelgate.training import load_predictor

PROBE = ["free gift cards, click now", "what a beautiful song", "subscribe to my channel"]


def _push(model_dir: Path, registry_uri: str, profile: Path, blessing: Path, run: str = "runs/r/p-1",
          **kwargs) -> str:
    return push_model(model_dir=model_dir, profile_path=profile, blessing_path=blessing, registry_uri=registry_uri,
                      model_name="spam", run_key=run, lineage={"labelgate.model_uri": str(model_dir)},
                      infra_validate=False, **kwargs).version


def _served_probs(registry_uri: str) -> np.ndarray:
    return load_predictor(champion_model_dir(registry_uri, "spam")).predict_proba(PROBE)


def _probs(model_dir: Path) -> np.ndarray:
    return load_predictor(model_dir).predict_proba(PROBE)


def test_empty_registry_has_no_champion(registry_uri: str) -> None:
    assert champion_model_dir(registry_uri, "spam") is None
    assert champion_file(registry_uri, "spam", "profile.json") is None


def test_push_registers_a_verified_champion_with_profile_and_lineage(
        registry_uri: str, model_dirs: list[Path], profile: Path, blessing: Path) -> None:
    version = _push(model_dirs[0], registry_uri, profile, blessing)
    assert version == "1"
    np.testing.assert_allclose(_served_probs(registry_uri), _probs(model_dirs[0]), atol=1e-7)
    stored_profile = champion_file(registry_uri, "spam", "profile.json")
    assert json.loads(stored_profile.read_text()) == json.loads(profile.read_text())
    assert champion_file(registry_uri, "spam", "no-such-file.json") is None
    (info,) = list_versions(registry_uri, "spam")
    assert info.status == "verified" and info.aliases == ("champion",)
    assert info.tags["labelgate.model_uri"] == str(model_dirs[0])
    assert info.tags["labelgate.pipeline_run"] == "runs/r/p-1"
    run = open_client(registry_uri).get_run(info.run_id)
    assert run.data.metrics["push/evaluate.test_accuracy"] == pytest.approx(0.9)


def test_unblessed_model_is_refused(registry_uri: str, model_dirs: list[Path], profile: Path, tmp_path: Path) -> None:
    refused = tmp_path / "refused.json"
    refused.write_text(json.dumps({"blessed": False, "reason": "accuracy 0.5 < 0.85"}))
    with pytest.raises(RegistryError, match="not blessed.*0.5"):
        _push(model_dirs[0], registry_uri, profile, refused)
    assert champion_model_dir(registry_uri, "spam") is None


def test_rollback_walks_back_through_champions(
        registry_uri: str, model_dirs: list[Path], profile: Path, blessing: Path) -> None:
    for i, model_dir in enumerate(model_dirs):
        assert _push(model_dir, registry_uri, profile, blessing, run=f"runs/r{i}/p") == str(i + 1)
    np.testing.assert_allclose(_served_probs(registry_uri), _probs(model_dirs[2]), atol=1e-7)
    assert rollback(registry_uri, "spam") == ("3", "2")
    np.testing.assert_allclose(_served_probs(registry_uri), _probs(model_dirs[1]), atol=1e-7)
    assert rollback(registry_uri, "spam") == ("2", "1")
    with pytest.raises(RegistryError, match="nothing to roll back"):
        rollback(registry_uri, "spam")
    assert promote(registry_uri, "spam", "3") == "1"
    assert rollback(registry_uri, "spam") == ("3", "1")
    rolled = {v.version: v.tags.get("labelgate.rolled_back") for v in list_versions(registry_uri, "spam")}
    assert rolled["3"] == "true" and rolled["1"] is None


def test_interrupted_push_keeps_the_previous_champion(
        registry_uri: str, model_dirs: list[Path], profile: Path, blessing: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    _push(model_dirs[0], registry_uri, profile, blessing)

    def crash(*args: object, **kwargs: object) -> None:
        raise SystemExit("killed while moving the alias")

    monkeypatch.setattr("labelgate.registry.push.promote", crash)
    with pytest.raises(SystemExit):
        _push(model_dirs[1], registry_uri, profile, blessing, run="runs/r2/p")
    np.testing.assert_allclose(_served_probs(registry_uri), _probs(model_dirs[0]), atol=1e-7)
    statuses = {v.version: (v.status, v.aliases) for v in list_versions(registry_uri, "spam")}
    assert statuses["1"] == ("verified", ("champion",))
    assert statuses["2"][1] == ()


@pytest.mark.parametrize("stop", [KeyboardInterrupt("Ctrl-C after the alias moved"), RuntimeError("tracking down")])
def test_a_push_stopped_after_the_alias_moved_leaves_a_verified_champion_not_a_failed_one(
        registry_uri: str, model_dirs: list[Path], profile: Path, blessing: Path,
        monkeypatch: pytest.MonkeyPatch, stop: BaseException) -> None:
    """Ctrl-C (or SIGTERM) of `labelgate run` just after the champion moved tagged the new champion "failed"
    and its MLflow run FAILED: `models list` showed a failed version holding the champion alias."""
    from labelgate.registry import tracking

    real_log_step = tracking.log_step

    def interrupted(*args: object, **kwargs: object) -> None:
        if "labelgate.pushed_version" in (kwargs.get("tags") or {}):  # written once the alias has moved
            raise stop
        real_log_step(*args, **kwargs)

    monkeypatch.setattr("labelgate.registry.push.tracking.log_step", interrupted)
    with pytest.raises(type(stop) if isinstance(stop, KeyboardInterrupt) else RegistryError):
        _push(model_dirs[0], registry_uri, profile, blessing)
    (info,) = list_versions(registry_uri, "spam")
    assert info.aliases == ("champion",) and info.status == "verified", info
    assert open_client(registry_uri).get_run(info.run_id).info.status != "FAILED"
    np.testing.assert_allclose(_served_probs(registry_uri), _probs(model_dirs[0]), atol=1e-7)


def test_corrupted_upload_fails_verification_and_is_never_promoted(
        registry_uri: str, model_dirs: list[Path], profile: Path, blessing: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    _push(model_dirs[0], registry_uri, profile, blessing)
    from mlflow import MlflowClient

    real_log_artifacts = MlflowClient.log_artifacts

    def truncating_upload(self: MlflowClient, run_id: str, local_dir: str, artifact_path: str | None = None) -> None:
        weights = next(Path(local_dir).rglob("weights.npz"), None)
        if weights is not None:  # an upload cut short: half the weights arrive
            weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
        real_log_artifacts(self, run_id, local_dir, artifact_path)

    monkeypatch.setattr(MlflowClient, "log_artifacts", truncating_upload)
    with pytest.raises(RegistryError, match="does not match its manifest"):
        _push(model_dirs[1], registry_uri, profile, blessing, run="runs/r2/p")
    statuses = {v.version: (v.status, v.aliases) for v in list_versions(registry_uri, "spam")}
    assert statuses == {"1": ("verified", ("champion",)), "2": ("failed", ())}
    with pytest.raises(RegistryError, match="failed, not verified"):
        promote(registry_uri, "spam", "2")
    np.testing.assert_allclose(_served_probs(registry_uri), _probs(model_dirs[0]), atol=1e-7)


def test_tampered_local_copy_is_downloaded_again(
        registry_uri: str, model_dirs: list[Path], profile: Path, blessing: Path) -> None:
    _push(model_dirs[0], registry_uri, profile, blessing)
    local = champion_model_dir(registry_uri, "spam")
    (local / "weights.npz").write_bytes(b"garbage")
    again = champion_model_dir(registry_uri, "spam")
    np.testing.assert_allclose(load_predictor(again).predict_proba(PROBE), _probs(model_dirs[0]), atol=1e-7)


def test_promote_refuses_unknown_version(registry_uri: str, model_dirs: list[Path], profile: Path,
                                         blessing: Path) -> None:
    _push(model_dirs[0], registry_uri, profile, blessing)
    with pytest.raises(RegistryError, match="no version '7'"):
        promote(registry_uri, "spam", "7")
    client = open_client(registry_uri)
    assert client.get_model_version("spam", "1").tags[STATUS_TAG] == "verified"


@pytest.mark.parametrize(("status", "promoted"), [
    ("verified", True), ("registered", False), ("failed", False), (None, False), ("unknown", False),
])
def test_only_a_verified_version_can_be_promoted(registry_uri: str, model_dirs: list[Path], profile: Path,
                                                 blessing: Path, status: str | None, promoted: bool) -> None:
    _push(model_dirs[0], registry_uri, profile, blessing)
    _push(model_dirs[1], registry_uri, profile, blessing, run="runs/r2/p")
    client = open_client(registry_uri)
    assert promote(registry_uri, "spam", "1") == "2"  # champion back to 1, so version 2 is a candidate
    if status is None:
        client.delete_model_version_tag("spam", "2", STATUS_TAG)
    else:
        client.set_model_version_tag("spam", "2", STATUS_TAG, status)
    if promoted:
        assert promote(registry_uri, "spam", "2") == "1"
    else:
        with pytest.raises(RegistryError, match="not verified"):
            promote(registry_uri, "spam", "2")
    champion = str(client.get_model_version_by_alias("spam", "champion").version)
    assert champion == ("2" if promoted else "1")
