"""A push's lease, and reconciling what dead pushes left behind.

A push marks its MLflow run ``labelgate.push_state = running`` with a lease (``labelgate.push_lease_expires_ms``,
wall clock) that a background thread renews every quarter lease while the push works. A push that is
killed (SIGKILL, OOM, a lost node) renews nothing, so its lease runs out. :func:`reconcile`, which the
next push and ``labelgate models list`` run, finds such pushes by their expired lease and cleans up:

- a version still tagged ``registered`` whose push's lease expired becomes ``failed`` (with the reason in
  ``labelgate.failure``); a push still in flight renews its lease and is left alone;
- the dead push's MLflow run is marked FAILED (``push_state`` = ``died``);
- the bundle it uploaded (whole or partial) is deleted from the run's artifacts, unless a verified version
  is stored there.
"""

from __future__ import annotations

import contextlib
import threading
from typing import TYPE_CHECKING

from labelgate.registry.lock import now_ms
from labelgate.registry.store import BUNDLE_ARTIFACT_PATH, STATUS_TAG, open_client

if TYPE_CHECKING:
    from mlflow import MlflowClient

PUSH_STATE_TAG = "labelgate.push_state"
LEASE_TAG = "labelgate.push_lease_expires_ms"
FAILURE_TAG = "labelgate.failure"
DEFAULT_LEASE_S = 120.0
# A ``registered`` version from before leases existed (no lease on its run) counts as dead this long
# after it was created.
_UNLEASED_GRACE_MS = 3600 * 1000


class PushLease:
    """Holds a push's lease on its MLflow run, renewed in a daemon thread until :meth:`stop`."""

    def __init__(self, registry_uri: str, run_id: str, *, lease_s: float = DEFAULT_LEASE_S) -> None:
        self.registry_uri, self.run_id, self.lease_s = registry_uri, run_id, float(lease_s)
        self._stop = threading.Event()
        self._client = open_client(registry_uri)
        self._renew()
        self._client.set_tag(run_id, PUSH_STATE_TAG, "running")
        self._thread = threading.Thread(target=self._loop, name=f"labelgate-lease-{run_id[:8]}", daemon=True)
        self._thread.start()

    def _renew(self) -> None:
        self._client.set_tag(self.run_id, LEASE_TAG, str(now_ms() + int(self.lease_s * 1000)))

    def _loop(self) -> None:
        while not self._stop.wait(self.lease_s / 4):
            with contextlib.suppress(Exception):  # a registry hiccup: the next renewal tries again
                self._renew()

    def stop(self, state: str) -> None:
        """Stop renewing and record how the push ended (``done``, ``failed``, ``champion-moved``)."""
        self._stop.set()
        self._thread.join(timeout=5)
        with contextlib.suppress(Exception):
            self._client.set_tag(self.run_id, PUSH_STATE_TAG, state)


def _lease_expired(client: MlflowClient, run_id: str | None, created_ms: int, now: int) -> tuple[bool, str]:
    run = None
    if run_id:
        with contextlib.suppress(Exception):
            run = client.get_run(run_id)
    lease = run.data.tags.get(LEASE_TAG) if run is not None else None
    if lease is None:
        return now > created_ms + _UNLEASED_GRACE_MS, "its push left no lease and is over an hour old"
    expires = int(lease)
    state = run.data.tags.get(PUSH_STATE_TAG)
    if state not in (None, "running"):
        return True, f"its push ended ({state}) without finishing the version"
    return now > expires, f"the push that registered it stopped renewing its lease (expired {(now - expires) / 1000:.0f} s ago)"


def _fail_run(client: MlflowClient, registry_uri: str, run_id: str) -> None:
    with contextlib.suppress(Exception):
        client.set_tag(run_id, PUSH_STATE_TAG, "died")
    with contextlib.suppress(Exception):
        client.set_terminated(run_id, status="FAILED")
    delete_bundle(client, registry_uri, run_id)


def delete_bundle(client: MlflowClient, registry_uri: str, run_id: str) -> bool:
    """Delete the (possibly partial) bundle uploaded to ``run_id``'s artifacts, unless a verified version
    is stored there (a retried push in the same pipeline run); True when something went."""
    from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

    try:
        if any(mv.tags.get(STATUS_TAG) == "verified" for mv in client.search_model_versions(f"run_id = '{run_id}'")):
            return False
        if not client.list_artifacts(run_id, BUNDLE_ARTIFACT_PATH):
            return False
        repo = get_artifact_repository(client.get_run(run_id).info.artifact_uri, tracking_uri=registry_uri)
        repo.delete_artifacts(BUNDLE_ARTIFACT_PATH)
        return True
    except Exception:
        return False


def reconcile(registry_uri: str, model_name: str) -> list[str]:
    """Clean up after pushes of ``model_name`` that died (see the module docstring); returns one line per
    thing it changed."""
    client = open_client(registry_uri)
    now = now_ms()
    done: list[str] = []
    try:
        versions = client.search_model_versions(f"name = '{model_name}'")
    except Exception:
        versions = []
    for mv in versions:
        if mv.tags.get(STATUS_TAG) != "registered":
            continue
        expired, why = _lease_expired(client, mv.run_id, int(mv.creation_timestamp or 0), now)
        if not expired:
            continue
        client.set_model_version_tag(model_name, mv.version, STATUS_TAG, "failed")
        client.set_model_version_tag(model_name, mv.version, FAILURE_TAG, why)
        if mv.run_id:
            _fail_run(client, registry_uri, mv.run_id)
        done.append(f"version {mv.version}: registered -> failed ({why})")
    experiment = None
    with contextlib.suppress(Exception):
        experiment = client.get_experiment_by_name(model_name)
    if experiment is not None:
        with contextlib.suppress(Exception):
            runs = client.search_runs([experiment.experiment_id],
                                      filter_string=f"tags.`{PUSH_STATE_TAG}` = 'running'", max_results=1000)
            for run in runs:
                lease = int(run.data.tags.get(LEASE_TAG, "0") or 0)
                if lease >= now:
                    continue
                _fail_run(client, registry_uri, run.info.run_id)
                done.append(f"MLflow run {run.info.run_id}: its push died (lease expired "
                            f"{(now - lease) / 1000:.0f} s ago); marked FAILED and its partial upload removed")
    return done
