"""What one registered version holds: the model directory, the data profile, the blessing, a manifest.

The manifest lists every file with its SHA-256 so a downloaded copy can be checked before it is served
or promoted; its own digest is recorded as a tag on the model version.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from hashlib import sha256
from pathlib import Path

from labelgate.contract import PROFILE_FILE
from labelgate.errors import RegistryError

MODEL_SUBDIR = "model"
BLESSING_FILE = "blessing.json"
MANIFEST_FILE = "manifest.json"


def _file_digest(path: Path) -> str:
    digest = sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _digests(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): _file_digest(p)
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != MANIFEST_FILE
    }


def manifest_digest(manifest: dict[str, str]) -> str:
    """The digest of a manifest, stable across key order."""
    return sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest()


def build_bundle(*, out_dir: Path, model_dir: Path, profile_path: Path | None, blessing_path: Path | None,
                 extra_files: Mapping[str, Path] | None = None) -> str:
    """Copy the model directory, profile, blessing and ``extra_files`` (name -> path) into ``out_dir``
    and write the manifest; returns the manifest digest."""
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise RegistryError(f"model directory {model_dir} does not exist or is not a directory")
    if not any(p.is_file() for p in model_dir.rglob("*")):
        raise RegistryError(f"model directory {model_dir} is empty; nothing to push")
    out_dir.mkdir(parents=True, exist_ok=True)
    shutil.copytree(model_dir, out_dir / MODEL_SUBDIR)
    named = [(profile_path, PROFILE_FILE), (blessing_path, BLESSING_FILE)]
    named += [(path, name) for name, path in (extra_files or {}).items()]
    for src, name in named:
        if src is None:
            continue
        src = Path(src)
        if not src.is_file():
            raise RegistryError(f"{name}: expected a file at {src}")
        shutil.copyfile(src, out_dir / name)
    manifest = _digests(out_dir)
    (out_dir / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return manifest_digest(manifest)


def verify_bundle(bundle_dir: Path) -> str:
    """Check every file of a bundle against its manifest (nothing missing, extra or altered); returns
    the manifest digest."""
    bundle_dir = Path(bundle_dir)
    manifest_path = bundle_dir / MANIFEST_FILE
    if not manifest_path.is_file():
        raise RegistryError(f"{bundle_dir} holds no {MANIFEST_FILE}; it is not a complete labelgate bundle")
    try:
        manifest = json.loads(manifest_path.read_text())
    except json.JSONDecodeError as exc:
        raise RegistryError(f"{manifest_path} is not valid JSON: {exc}") from exc
    actual = _digests(bundle_dir)
    missing = sorted(set(manifest) - set(actual))
    extra = sorted(set(actual) - set(manifest))
    changed = sorted(k for k in set(manifest) & set(actual) if manifest[k] != actual[k])
    if missing or extra or changed:
        raise RegistryError(
            f"bundle {bundle_dir} does not match its manifest: missing {missing}, unexpected {extra}, "
            f"altered {changed}"
        )
    if not any(k.startswith(f"{MODEL_SUBDIR}/") for k in manifest):
        raise RegistryError(f"bundle {bundle_dir} holds no model directory")
    return manifest_digest(manifest)
