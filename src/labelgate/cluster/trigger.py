"""Data-arrival trigger: start a pipeline run when new data files appear under a URI.

The state (which files were already handed to a run) is a small JSON file at any fsspec URI, so a CI
job or a CronJob can keep it in the same bucket as the data. A file is recorded only after its run was
created, so a failed submission is retried next time and a submitted file is never submitted again.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import fsspec

from labelgate.errors import ConfigError, DataError
from labelgate.ingest.readers import list_data_files

STATE_VERSION = 1


@dataclass(frozen=True)
class TriggerResult:
    """What one check found and did."""

    new_files: list[str]
    run_id: str | None
    already_processed: int


def load_state(state_uri: str) -> dict[str, Any]:
    """The trigger state at ``state_uri``; an empty state when the file does not exist yet."""
    fs, path = fsspec.core.url_to_fs(state_uri)
    if not fs.exists(path):
        return {"version": STATE_VERSION, "processed": {}}
    try:
        with fs.open(path, "r") as handle:
            state = json.load(handle)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"trigger state {state_uri} is unreadable ({exc}); fix or remove it "
                          "(removing it makes every current file count as new)") from None
    if not isinstance(state, dict) or not isinstance(state.get("processed"), dict):
        raise ConfigError(f"trigger state {state_uri} lacks a 'processed' mapping; fix or remove it")
    return state


def save_state(state_uri: str, state: dict[str, Any]) -> None:
    """Write the state: to a temporary name first, then moved over the old one (no torn file)."""
    fs, path = fsspec.core.url_to_fs(state_uri)
    parent = posixpath.dirname(path)
    if parent:
        fs.makedirs(parent, exist_ok=True)
    temporary = f"{path}.tmp"
    with fs.open(temporary, "w") as handle:
        json.dump(state, handle, indent=2, sort_keys=True)
    fs.mv(temporary, path)


def new_files(data_uri: str, state: dict[str, Any]) -> list[str]:
    """Data files under ``data_uri`` that no earlier run was given, sorted."""
    try:
        files = list_data_files(data_uri)
    except DataError:
        return []  # nothing there yet is not an error for a trigger
    return [f for f in files if f not in state["processed"]]


def check(*, data_uri: str, state_uri: str, submit: Callable[[list[str]], str], dry_run: bool = False,
          now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> TriggerResult:
    """Submit one run (``submit(new_files) -> run id``) when there are new files, then record them."""
    state = load_state(state_uri)
    fresh = new_files(data_uri, state)
    if not fresh or dry_run:
        return TriggerResult(new_files=fresh, run_id=None, already_processed=len(state["processed"]))
    run_id = submit(fresh)
    stamp = now().isoformat(timespec="seconds")
    for uri in fresh:
        state["processed"][uri] = {"run_id": run_id, "submitted_at": stamp}
    state["version"] = STATE_VERSION
    state["data_uri"] = data_uri
    save_state(state_uri, state)
    return TriggerResult(new_files=fresh, run_id=run_id, already_processed=len(state["processed"]) - len(fresh))
