"""promote and rollback check the stored bundle against its SHA-256 manifest before the alias moves: a
version whose files were damaged after its push is refused, naming the file and the fix."""

from __future__ import annotations

import urllib.parse
from pathlib import Path

import pytest

from labelgate.champion import champion_version
from labelgate.cli import main
from labelgate.errors import RegistryError
from labelgate.registry import promote, rollback
from labelgate.registry.push import push_model
from labelgate.registry.store import open_client


def _push(model_dir: Path, registry_uri: str, profile: Path, blessing: Path, run: str) -> str:
    return push_model(model_dir=model_dir, profile_path=profile, blessing_path=blessing, registry_uri=registry_uri,
                      model_name="spam", run_key=run, infra_validate=False).version


def _stored(registry_uri: str, version: str) -> Path:
    """The folder the registry keeps ``version``'s bundle in (the local store's artifact folder)."""
    source = open_client(registry_uri).get_model_version("spam", version).source
    return Path(urllib.parse.unquote(urllib.parse.urlparse(source).path))


@pytest.fixture
def two_versions(registry_uri: str, model_dirs: list[Path], profile: Path, blessing: Path) -> str:
    assert _push(model_dirs[0], registry_uri, profile, blessing, "r1") == "1"
    assert _push(model_dirs[1], registry_uri, profile, blessing, "r2") == "2"
    return registry_uri


def test_promote_refuses_a_version_whose_stored_weights_were_altered(two_versions: str) -> None:
    assert promote(two_versions, "spam", "1") == "2"
    weights = _stored(two_versions, "2") / "model" / "weights.npz"
    weights.write_bytes(weights.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(RegistryError, match=r"version 2 is damaged.*altered \['model/weights.npz'\].*push the model "
                                            r"again") as caught:
        promote(two_versions, "spam", "2")
    message = str(caught.value)
    assert message.startswith("model 'spam' version 2 is damaged in the registry and cannot become champion: ")
    assert message.endswith(". Fix: push the model again (`make run --force`), or promote another verified version "
                            "(`labelgate models list` shows them)")
    assert champion_version(open_client(two_versions), "spam") == "1"


def test_rollback_refuses_a_target_with_a_missing_file(two_versions: str) -> None:
    (_stored(two_versions, "1") / "profile.json").unlink()
    with pytest.raises(RegistryError, match=r"version 1 is damaged.*missing \['profile.json'\]"):
        rollback(two_versions, "spam")
    assert champion_version(open_client(two_versions), "spam") == "2"


def test_models_promote_reports_the_damaged_file(two_versions: str, capsys: pytest.CaptureFixture[str]) -> None:
    (_stored(two_versions, "1") / "model" / "extra.bin").write_bytes(b"planted")
    assert main(["models", "promote", "1", "--registry-uri", two_versions, "--model-name", "spam"]) == 1
    err = capsys.readouterr().err
    assert "version 1 is damaged" in err and "unexpected ['model/extra.bin']" in err and "labelgate models list" in err
    assert champion_version(open_client(two_versions), "spam") == "2"
