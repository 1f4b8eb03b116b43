"""Build the bundle one registered version holds: the model directory, the data profile, the blessing,
a manifest. The layout and the manifest check that readers run live in :mod:`labelgate.champion`.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path

from labelgate.champion import (
    BLESSING_FILE,
    MANIFEST_FILE,
    MODEL_SUBDIR,
    file_digests,
    manifest_digest,
)
from labelgate.contract import PROFILE_FILE
from labelgate.errors import RegistryError


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
    manifest = file_digests(out_dir)
    (out_dir / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return manifest_digest(manifest)
