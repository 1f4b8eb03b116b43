"""The write side of the model registry (MLflow's): experiments, the ``champion`` alias moved forward
(``promote``) and back (``rollback``), the version listing, and champion files for the pipeline's steps.

Opening the registry, reading the alias and downloading a verified copy of a version live in
:mod:`labelgate.champion` (serving needs them too). Every registered version holds one *bundle* (see
:mod:`labelgate.registry.bundle`); the alias is the single source of truth for what is served, and a tag
on the registered model keeps the alias history that ``rollback`` walks back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from labelgate.champion import (
    CHAMPION_ALIAS,
    MODEL_SUBDIR,
    champion_version,
    download_version,
    local_artifact_root,
    open_client,
)
from labelgate.errors import RegistryError

if TYPE_CHECKING:
    from mlflow import MlflowClient

BUNDLE_ARTIFACT_PATH = "labelgate_model"
HISTORY_TAG = "labelgate.champion_history"
STATUS_TAG = "labelgate.status"


@dataclass(frozen=True)
class VersionInfo:
    """One registered version as `labelgate models list` shows it."""

    version: str
    status: str
    aliases: tuple[str, ...]
    created_ms: int
    source: str
    run_id: str | None
    tags: dict[str, str]


def ensure_experiment(client: MlflowClient, registry_uri: str, name: str) -> str:
    """The id of experiment ``name``, creating it (artifacts in the local store's folder) if missing."""
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    root = local_artifact_root(registry_uri)
    location = (root / name).as_uri() if root is not None else None
    try:
        return client.create_experiment(name, artifact_location=location)
    except Exception:  # created concurrently by another step: read it back
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            raise
        return experiment.experiment_id


def champion_bundle(registry_uri: str, model_name: str) -> Path | None:
    """A verified local copy of the champion's bundle, or None when there is no champion."""
    version = champion_version(open_client(registry_uri), model_name)
    if version is None:
        return None
    return download_version(registry_uri, model_name, version)


def champion_model_dir(registry_uri: str, model_name: str) -> Path | None:
    """A local copy of the champion's model directory (for ``load_predictor``); None without a champion."""
    bundle = champion_bundle(registry_uri, model_name)
    return None if bundle is None else bundle / MODEL_SUBDIR


def champion_file(registry_uri: str, model_name: str, name: str) -> Path | None:
    """A file stored with the champion version (e.g. ``profile.json``); None without a champion or file."""
    bundle = champion_bundle(registry_uri, model_name)
    if bundle is None:
        return None
    path = bundle / name
    return path if path.is_file() else None


def _history(client: MlflowClient, model_name: str) -> list[str]:
    raw = client.get_registered_model(model_name).tags.get(HISTORY_TAG, "[]")
    try:
        history = json.loads(raw)
    except json.JSONDecodeError:
        return []
    return [str(v) for v in history] if isinstance(history, list) else []


def promote(registry_uri: str, model_name: str, version: str) -> str | None:
    """Point ``champion`` at ``version`` (which must be verified); returns the previous champion."""
    client = open_client(registry_uri)
    version = str(version)
    try:
        mv = client.get_model_version(model_name, version)
    except Exception as exc:
        raise RegistryError(f"model {model_name!r} has no version {version!r}") from exc
    status = mv.tags.get(STATUS_TAG)
    if status != "verified":
        raise RegistryError(
            f"model {model_name!r} version {version} is {status or 'unverified'}, not verified; "
            "only a version whose push completed can become champion"
        )
    previous = champion_version(client, model_name)
    history = _history(client, model_name)
    if previous is not None and (not history or history[-1] != previous):
        history.append(previous)  # the alias was moved outside labelgate (e.g. in the MLflow UI)
    if not history or history[-1] != version:
        history.append(version)
    # The history tag is written before the alias: a crash in between leaves a trailing entry that
    # rollback ignores (it trims the history back to the alias, which stays the source of truth).
    client.set_registered_model_tag(model_name, HISTORY_TAG, json.dumps(history[-100:]))
    client.set_registered_model_alias(model_name, CHAMPION_ALIAS, version)
    return previous


def rollback(registry_uri: str, model_name: str) -> tuple[str, str]:
    """Move ``champion`` back to the version that held it before the current one; (from, to)."""
    client = open_client(registry_uri)
    current = champion_version(client, model_name)
    if current is None:
        raise RegistryError(f"model {model_name!r} has no champion to roll back")
    history = _history(client, model_name)
    while history and history[-1] != current:
        history.pop()
    if history:
        history.pop()
    while history and history[-1] == current:
        history.pop()
    if not history:
        raise RegistryError(
            f"model {model_name!r}: version {current} is the first champion; there is nothing to roll back to"
        )
    target = history[-1]
    client.set_model_version_tag(model_name, current, "labelgate.rolled_back", "true")
    client.set_registered_model_tag(model_name, HISTORY_TAG, json.dumps(history))
    client.set_registered_model_alias(model_name, CHAMPION_ALIAS, target)
    return current, target


def list_versions(registry_uri: str, model_name: str) -> list[VersionInfo]:
    """Every version of ``model_name``, newest first, with its status tag and aliases."""
    client = open_client(registry_uri)
    try:
        registered = client.get_registered_model(model_name)
    except Exception as exc:
        raise RegistryError(f"no registered model named {model_name!r} in {registry_uri}") from exc
    by_version: dict[str, list[str]] = {}
    for alias, version in (registered.aliases or {}).items():
        by_version.setdefault(str(version), []).append(alias)
    versions = client.search_model_versions(f"name = '{model_name}'")
    out = [
        VersionInfo(
            version=str(mv.version),
            status=mv.tags.get(STATUS_TAG, "unknown"),
            aliases=tuple(sorted(by_version.get(str(mv.version), []))),
            created_ms=int(mv.creation_timestamp or 0),
            source=mv.source,
            run_id=mv.run_id,
            tags=dict(mv.tags),
        )
        for mv in versions
    ]
    return sorted(out, key=lambda v: int(v.version), reverse=True)


def list_models(registry_uri: str) -> list[tuple[str, int, str | None]]:
    """Every registered model: ``(name, number of versions, champion version or None)``, by name."""
    client = open_client(registry_uri)
    out = []
    for model in client.search_registered_models():
        versions = client.search_model_versions(f"name = '{model.name}'")
        champion = (model.aliases or {}).get(CHAMPION_ALIAS)
        out.append((model.name, len(versions), None if champion is None else str(champion)))
    return sorted(out)


INPUTS_TAG = "labelgate.inputs_sha256"


def champion_inputs(registry_uri: str, model_name: str) -> tuple[str | None, str | None]:
    """The champion's version and the fingerprint of the inputs that made it (``INPUTS_TAG``), each None
    when unknown."""
    client = open_client(registry_uri)
    version = champion_version(client, model_name)
    if version is None:
        return None, None
    return version, client.get_model_version(model_name, version).tags.get(INPUTS_TAG)


def record_inputs(registry_uri: str, model_name: str, version: str, fingerprint: str) -> None:
    """Tag a pushed version with the fingerprint of its inputs (data, LFs, config, suite, constraints, code)."""
    open_client(registry_uri).set_model_version_tag(model_name, version, INPUTS_TAG, fingerprint)
