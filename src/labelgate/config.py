"""The pipeline configuration: one YAML file per pipeline, versioned with the code.

Each stage reads its own section (``data``, ``split``, ``labeling``, ``validation``, ``training``,
``evaluation``, ``serving``) and turns it into its own typed settings; ``pipeline`` sets pipeline
parameters (``labelgate.parameters``); this module only loads and checks the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import fsspec
import yaml

from labelgate.errors import ConfigError

SECTIONS = ("pipeline", "data", "split", "labeling", "validation", "training", "evaluation", "serving")


def load_config(uri: str | Path) -> dict[str, Any]:
    """Read the YAML config at ``uri`` (a path or fsspec URI) and check its top-level sections."""
    try:
        with fsspec.open(str(uri), "r", encoding="utf-8") as fh:
            raw = yaml.safe_load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(f"config file not found: {uri}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {uri} is not valid YAML: {exc}") from exc
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"config file {uri} must hold a mapping of sections, got {type(raw).__name__}")
    unknown = sorted(set(raw) - set(SECTIONS))
    if unknown:
        raise ConfigError(f"config file {uri}: unknown section(s) {unknown}; known: {list(SECTIONS)}")
    for name, value in raw.items():
        if value is not None and not isinstance(value, dict):
            raise ConfigError(f"config file {uri}: section '{name}' must be a mapping")
    return {name: dict(raw.get(name) or {}) for name in SECTIONS}


def take(section: dict[str, Any], key: str, default: Any, kind: type | tuple[type, ...], where: str) -> Any:
    """Return ``section[key]`` (or ``default``), checking its type so a typo fails loudly."""
    value = section.get(key, default)
    if value is not None and not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ConfigError(f"config {where}.{key} must be {names}, got {value!r}")
    return value


def check_keys(section: dict[str, Any], known: set[str], where: str) -> None:
    """Reject keys a section does not know, naming the closest ones a user may have meant."""
    unknown = sorted(set(section) - known)
    if unknown:
        raise ConfigError(f"config section '{where}' has unknown key(s) {unknown}; known: {sorted(known)}")
