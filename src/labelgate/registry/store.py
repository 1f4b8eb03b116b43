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
from labelgate.errors import ChampionMovedError, RegistryError
from labelgate.registry.lock import is_lock, registry_lock, retry_lost_lock

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


class _Any:
    """The default ``expected`` of promote/rollback: whatever the champion is when the lock is taken."""

    def __repr__(self) -> str:
        return "ANY"


ANY = _Any()


def _check_expected(model_name: str, current: str | None, expected: str | None | _Any, action: str) -> None:
    if isinstance(expected, _Any) or current == (None if expected is None else str(expected)):
        return
    raise ChampionMovedError(
        f"model {model_name!r}: the champion is {_name(current)}, not {_name(expected)} as expected, so {action} "
        "was not done (another push, promote or rollback moved it first). Look at `labelgate models list`, "
        "then run it again against the champion it shows (--expect-champion)"
    )


def _name(version: object) -> str:
    return "none (no champion)" if version is None else f"version {version}"


def verify_stored(registry_uri: str, model_name: str, version: str) -> None:
    """Download ``version`` afresh and check every file against its SHA-256 manifest (and the manifest
    against the digest recorded at push); a corrupted version is refused naming the file and the fix."""
    try:
        download_version(registry_uri, model_name, str(version), refresh=True)
    except RegistryError as exc:
        raise RegistryError(
            f"model {model_name!r} version {version} is damaged in the registry and cannot become champion: {exc}. "
            "Fix: push the model again (`make run --force`), or promote another verified version "
            "(`labelgate models list` shows them)"
        ) from exc


def _verified_version(client: MlflowClient, model_name: str, version: str) -> None:
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


def promote(registry_uri: str, model_name: str, version: str, *, expected: str | None | _Any = ANY,
            verify: bool = True, purpose: str = "promote") -> str | None:
    """Point ``champion`` at ``version`` (which must be verified, and whose stored files must match their
    manifest unless ``verify`` is False because the caller just checked them); returns the previous
    champion. Compare-and-set: under the registry lock (:mod:`labelgate.registry.lock`), the champion must
    still be ``expected`` (``None``: no champion yet; default: whatever it is then), else
    :class:`ChampionMovedError` and nothing changes."""
    client = open_client(registry_uri)
    version = str(version)
    _verified_version(client, model_name, version)
    if verify:
        verify_stored(registry_uri, model_name, version)

    def locked_move() -> str | None:
        with registry_lock(client, model_name, purpose=f"{purpose} {model_name} version {version}") as lock:
            _verified_version(client, model_name, version)  # its status may have changed while we verified
            previous = champion_version(client, model_name)
            _check_expected(model_name, previous, expected, f"promoting version {version}")
            history = _history(client, model_name)
            if previous is not None and (not history or history[-1] != previous):
                history.append(previous)  # the alias was moved outside labelgate (e.g. in the MLflow UI)
            if not history or history[-1] != version:
                history.append(version)
            # The history tag is written before the alias: a crash in between leaves a trailing entry that
            # rollback ignores (it trims the history back to the alias, which stays the source of truth).
            lock.check()
            client.set_registered_model_tag(model_name, HISTORY_TAG, json.dumps(history[-100:]))
            client.set_registered_model_alias(model_name, CHAMPION_ALIAS, version)
        return previous

    return retry_lost_lock(locked_move)


def _rollback_target(client: MlflowClient, model_name: str) -> tuple[str, str, list[str]]:
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
    return current, history[-1], history


def rollback(registry_uri: str, model_name: str, *, expected: str | None | _Any = ANY,
             verify: bool = True) -> tuple[str, str]:
    """Move ``champion`` back to the version that held it before the current one; (from, to). The target's
    stored files are checked against their manifest first; under the registry lock the champion must
    still be ``expected`` (default: the one read before the check), else :class:`ChampionMovedError`."""
    client = open_client(registry_uri)
    current, target, _ = _rollback_target(client, model_name)
    _check_expected(model_name, current, expected, "the rollback")
    if verify:
        verify_stored(registry_uri, model_name, target)

    def locked_move() -> None:
        with registry_lock(client, model_name, purpose=f"rollback {model_name} from version {current}") as lock:
            now, now_target, history = _rollback_target(client, model_name)
            if (now, now_target) != (current, target):
                _check_expected(model_name, now, current, f"the rollback from version {current} to {target}")
                raise ChampionMovedError(f"model {model_name!r}: the champion history changed during the rollback "
                                         "(another process moved it); nothing was changed, run it again")
            lock.check()
            client.set_model_version_tag(model_name, current, "labelgate.rolled_back", "true")
            client.set_registered_model_tag(model_name, HISTORY_TAG, json.dumps(history))
            client.set_registered_model_alias(model_name, CHAMPION_ALIAS, target)

    retry_lost_lock(locked_move)
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
        if is_lock(model.name):
            continue
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
