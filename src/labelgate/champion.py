"""Read a registered model: the bundle layout and its manifest check, the ``champion`` alias, and
verified local copies of registered versions.

This is the read side of the MLflow registry that both ``registry/`` (which pushes, promotes and rolls
back) and ``serving/`` (which loads the champion) need; it lives below both so that neither imports the
other for it. Registry URIs are MLflow tracking URIs; a local ``sqlite:///<dir>/<file>.db`` store keeps
its artifacts beside the database, in ``<dir>/artifacts``.

A bundle is what one registered version holds: the model directory, the data profile, the blessing and
a manifest listing every file with its SHA-256, so a downloaded copy can be checked before it is served
or promoted; the manifest's own digest is recorded as a tag on the model version.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import random
import shutil
import tempfile
import time
import urllib.parse
from hashlib import sha256
from pathlib import Path
from typing import TYPE_CHECKING

from labelgate.errors import RegistryError

if TYPE_CHECKING:
    from mlflow import MlflowClient

CHAMPION_ALIAS = "champion"
MANIFEST_TAG = "labelgate.manifest_sha256"

MODEL_SUBDIR = "model"
BLESSING_FILE = "blessing.json"
MANIFEST_FILE = "manifest.json"


def _file_digest(path: Path) -> str:
    digest = sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_digests(root: Path) -> dict[str, str]:
    """SHA-256 of every file under ``root`` but the manifest, by POSIX path relative to ``root``."""
    return {
        p.relative_to(root).as_posix(): _file_digest(p)
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != MANIFEST_FILE
    }


def manifest_digest(manifest: dict[str, str]) -> str:
    """The digest of a manifest, stable across key order."""
    return sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest()


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
    actual = file_digests(bundle_dir)
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


def local_artifact_root(registry_uri: str) -> Path | None:
    """The artifact folder of a local SQLite registry (``<db dir>/artifacts``); None for other URIs."""
    parsed = urllib.parse.urlparse(registry_uri)
    if parsed.scheme != "sqlite":
        return None
    db_path = registry_uri[len("sqlite:///") :]
    if not db_path or db_path == ":memory:":
        raise RegistryError(f"registry URI {registry_uri!r}: a SQLite registry needs a file path")
    return Path(db_path).resolve().parent / "artifacts"


LOCKED_RETRY_DELAYS_S = (0.2, 0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0)  # about 32 s of pauses, jittered


def _sqlite_locked(exc: Exception) -> bool:
    kind = getattr(exc, "error_code", "") == "TEMPORARILY_UNAVAILABLE" or type(exc).__name__ == "OperationalError"
    return kind and "database is locked" in str(exc)


LOCKED_HINT = ("another process kept this SQLite registry locked through every retry: wait for it and run "
               "again, or give concurrent runs one MLflow tracking server (--registry-uri http://...)")


def _lost_insert_race(exc: Exception) -> bool:
    """Whether ``exc`` is SQLite refusing the second of two concurrent first writes of one key."""
    return getattr(exc, "error_code", "") == "BAD_REQUEST" and "UNIQUE constraint failed" in str(exc)


# MlflowClient calls that set a key to a value, whatever was there: MLflow's SQL store runs them as "read,
# then insert or update", so two processes setting the same new key at once both insert and the later one
# fails on the table's unique key (its transaction rolled back). Called again, it finds the key and updates.
_UPSERTS = frozenset({"set_tag", "log_batch", "log_param", "set_model_version_tag", "set_registered_model_tag",
                      "set_experiment_tag", "set_registered_model_alias"})


def _patiently(call, delays_s: tuple[float, ...], *args, _upsert: bool = False, **kwargs):
    """``call(*args, **kwargs)``, called again after a jittered pause while SQLite answers "database is
    locked" (once per delay, then a last time), or, for an upsert (``_UPSERTS``), while it lost a race to
    insert the same new key; every other error at once. A lock that outlasts the last try is a
    RegistryError naming the cause and the fix."""

    def transient(exc: Exception) -> bool:
        return _sqlite_locked(exc) or (_upsert and _lost_insert_race(exc))

    for delay in delays_s:
        try:
            return call(*args, **kwargs)
        except Exception as exc:
            if not transient(exc):
                raise
        time.sleep(delay * random.uniform(0.5, 1.5))  # apart, so the writers do not collide again
    try:
        return call(*args, **kwargs)
    except Exception as exc:
        if not _sqlite_locked(exc):
            raise
        raise RegistryError(f"{exc}; {LOCKED_HINT}") from exc


class _LockPatientClient:
    """An MlflowClient whose calls are tried again when a SQLite registry answers "database is locked", and
    whose upserts (``_UPSERTS``) also when they lost a race to insert the same new key.

    MLflow waits 20 s for SQLite's write lock, but a transaction that read first and then writes gets
    SQLITE_BUSY at once when another connection is committing (SQLite refuses to wait there, to avoid a
    deadlock): concurrent pushes to one local registry then failed instead of taking turns. The failed
    transaction was rolled back, so calling again is safe. Every other error passes through unchanged."""

    def __init__(self, client: MlflowClient, delays_s: tuple[float, ...] = LOCKED_RETRY_DELAYS_S) -> None:
        self._client, self._delays_s = client, delays_s

    def __getattr__(self, name: str):
        attr = getattr(self._client, name)
        if not callable(attr):
            return attr

        upsert = name in _UPSERTS

        @functools.wraps(attr)
        def patient(*args, **kwargs):
            return _patiently(attr, self._delays_s, *args, _upsert=upsert, **kwargs)

        return patient


class _RetriedLockRecords(logging.Filter):
    """Drops MLflow's logged traceback for a "database is locked" error: the call is tried again, and the
    error is raised (and shown) only if the last try fails too."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not (exc is not None and _sqlite_locked(exc))


_RETRIED_LOCK_FILTER = _RetriedLockRecords()


def open_client(registry_uri: str) -> MlflowClient:
    """An MlflowClient for tracking and registry at ``registry_uri``; creates a local store's folders.

    For a local SQLite registry, opening it and every call are tried again while the database is locked
    by another writer (see ``_LockPatientClient``; opening reads the schema outside MLflow's sessions, where
    the driver waits only 5 s for a lock)."""
    from mlflow import MlflowClient  # heavy: imported when a registry is opened, not with this module

    root = local_artifact_root(registry_uri)
    if root is not None:
        root.mkdir(parents=True, exist_ok=True)
        logging.getLogger("mlflow.store.db.utils").addFilter(_RETRIED_LOCK_FILTER)  # a set: added once
    try:
        if root is None:
            return MlflowClient(tracking_uri=registry_uri, registry_uri=registry_uri)
        client = _patiently(MlflowClient, LOCKED_RETRY_DELAYS_S, tracking_uri=registry_uri, registry_uri=registry_uri)
    except Exception as exc:  # MLflow raises many types for an unusable URI
        raise RegistryError(f"cannot open the model registry at {registry_uri!r}: {exc}") from exc
    return _LockPatientClient(client)  # type: ignore[return-value]


def _is_missing(exc: Exception) -> bool:
    return getattr(exc, "error_code", "") in ("RESOURCE_DOES_NOT_EXIST", "NOT_FOUND")


def champion_version(client: MlflowClient, model_name: str) -> str | None:
    """The version the ``champion`` alias points at, or None when there is no champion (or model) yet."""
    from mlflow.exceptions import MlflowException  # heavy, see open_client

    try:
        registered = client.get_registered_model(model_name)
    except MlflowException as exc:
        if _is_missing(exc):
            return None
        raise RegistryError(f"cannot read the champion of model {model_name!r}: {exc}") from exc
    version = (registered.aliases or {}).get(CHAMPION_ALIAS)
    return None if version is None else str(version)


def _cache_dir(registry_uri: str, model_name: str, version: str) -> Path:
    root = local_artifact_root(registry_uri)
    key = sha256(str(root or registry_uri).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / "labelgate-registry" / key / model_name / version


def download_version(registry_uri: str, model_name: str, version: str, *, refresh: bool = False) -> Path:
    """A verified local copy of the bundle of ``model_name`` version ``version`` (cached per version)."""
    import mlflow.artifacts  # heavy, see open_client

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    client = open_client(registry_uri)
    try:
        mv = client.get_model_version(model_name, str(version))
    except Exception as exc:
        raise RegistryError(f"model {model_name!r} has no version {version!r} in {registry_uri}") from exc
    target = _cache_dir(registry_uri, model_name, str(version))
    expected = mv.tags.get(MANIFEST_TAG)
    if target.exists() and not refresh:
        try:
            if verify_bundle(target) == expected:
                return target
        except RegistryError:
            pass
        shutil.rmtree(target, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=target.parent))
    try:
        source = client.get_model_version_download_uri(model_name, str(version))
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=source, dst_path=str(staging),
                                                          tracking_uri=registry_uri))
        manifest = verify_bundle(local)
        if expected is None:
            raise RegistryError(
                f"model {model_name!r} version {version} carries no {MANIFEST_TAG} tag; it was not pushed by labelgate"
            )
        if expected != manifest:
            raise RegistryError(
                f"model {model_name!r} version {version}: the stored bundle does not match the manifest "
                f"digest recorded when it was pushed ({manifest[:12]} != {str(expected)[:12]})"
            )
        _install(local, target, expected)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _install(fresh: Path, target: Path, digest: str) -> None:
    """Put a verified download at ``target`` without pulling a good copy from under another process."""
    try:
        if verify_bundle(target) == digest:
            return  # the cached copy is the same bundle; leave it for whoever is reading it
    except RegistryError:
        pass
    stale = target.with_name(f".{target.name}-stale-{os.getpid()}")
    with contextlib.suppress(OSError):
        target.rename(stale)
    try:
        fresh.rename(target)
    except OSError:  # another process installed it first: use theirs if it is good
        if verify_bundle(target) != digest:
            raise
    finally:
        shutil.rmtree(stale, ignore_errors=True)


def registered_model_dir(registry_uri: str, model_name: str, version: str | None = None) -> tuple[Path, str]:
    """A verified local copy of the model directory of ``version`` (the champion when None), and that
    version; raises RegistryError when there is no champion."""
    if version is None:
        version = champion_version(open_client(registry_uri), model_name)
        if version is None:
            raise RegistryError(
                f"model {model_name!r} has no champion in {registry_uri}; push a model first "
                "(`make run`) or promote a version (`labelgate models promote VERSION`)"
            )
    return download_version(registry_uri, model_name, version) / MODEL_SUBDIR, str(version)
