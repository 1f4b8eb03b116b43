"""What every pipeline step shares: turning a LabelgateError into a readable failure, not a traceback."""

from __future__ import annotations

import contextlib
import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

from labelgate.errors import LabelgateError

FAILURE_FILE = "failure.json"


@contextlib.contextmanager
def step_failures(step: str, output_path: str) -> Iterator[None]:
    """Run a step body; on a LabelgateError write ``failure.json`` beside ``output_path`` (one of the
    step's output artifacts), print one readable line, and exit 1 so the orchestrator marks the step
    failed and nothing downstream of it runs."""
    try:
        yield
    except LabelgateError as exc:
        record = {"step": step, "error": type(exc).__name__, "message": str(exc)}
        target = Path(output_path).parent
        target.mkdir(parents=True, exist_ok=True)
        (target / FAILURE_FILE).write_text(json.dumps(record, indent=2))
        print(f"labelgate: {step} failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None


def progress(step: str, message: str) -> None:
    """One progress line from inside a step; `labelgate run` shows these while the step runs."""
    print(f"labelgate[{step}]: {message}", flush=True)


def file_sha256(path: str) -> str | None:
    """The SHA-256 of a file for lineage records; None when it cannot be read (the step reports why)."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None
