"""Bundles: the manifest catches a missing, extra or altered file."""

from __future__ import annotations

from pathlib import Path

import pytest

from labelgate.champion import verify_bundle
from labelgate.errors import RegistryError
from labelgate.registry.bundle import build_bundle


def _bundle(tmp_path: Path) -> Path:
    model = tmp_path / "model"
    (model / "sub").mkdir(parents=True)
    (model / "weights.bin").write_bytes(b"\x00\x01")
    (model / "sub" / "vocab.txt").write_text("a\nb\n")
    profile = tmp_path / "profile.json"
    profile.write_text("{}")
    out = tmp_path / "bundle"
    digest = build_bundle(out_dir=out, model_dir=model, profile_path=profile, blessing_path=None)
    assert verify_bundle(out) == digest
    return out


def test_bundle_round_trip_holds_every_file(tmp_path: Path) -> None:
    out = _bundle(tmp_path)
    assert (out / "model" / "sub" / "vocab.txt").read_text() == "a\nb\n"
    assert (out / "profile.json").is_file()
    assert not (out / "blessing.json").exists()


@pytest.mark.parametrize("damage", ["alter", "remove", "add"])
def test_bundle_damage_is_detected(tmp_path: Path, damage: str) -> None:
    out = _bundle(tmp_path)
    target = out / "model" / "weights.bin"
    if damage == "alter":
        target.write_bytes(b"\x00\x02")
    elif damage == "remove":
        target.unlink()
    else:
        (out / "model" / "stray.txt").write_text("x")
    with pytest.raises(RegistryError, match="does not match its manifest"):
        verify_bundle(out)


def test_empty_or_missing_model_dir_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(RegistryError, match="empty"):
        build_bundle(out_dir=tmp_path / "b1", model_dir=tmp_path / "empty", profile_path=None, blessing_path=None)
    with pytest.raises(RegistryError, match="does not exist"):
        build_bundle(out_dir=tmp_path / "b2", model_dir=tmp_path / "nope", profile_path=None, blessing_path=None)
