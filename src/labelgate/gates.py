"""Gate decisions: a boolean plus a reason a person can read, recorded as a small JSON artifact."""

from __future__ import annotations

import json
from pathlib import Path

GATE_FILE_KEYS = ("gate", "passed", "reason")
# Exit codes of `labelgate run` and the cluster commands: CI tells "blocked" from "broken".
EXIT_OK, EXIT_ERROR, EXIT_BLOCKED = 0, 1, 3


def decide(*, gate: str, passed: bool, reason: str, out_path: str) -> bool:
    """Record a gate's decision at ``out_path`` and print it; returns ``passed`` for ``dsl.If``."""
    reason = reason.strip() or ("passed" if passed else "blocked without a reason (treated as blocked)")
    record = {"gate": gate, "passed": bool(passed), "reason": reason}
    Path(out_path).parent.mkdir(parents=True, exist_ok=True)
    Path(out_path).write_text(json.dumps(record, indent=2))
    verdict = "PASSED" if passed else "BLOCKED"
    print(f"labelgate[{gate}]: {verdict}: {reason}", flush=True)
    return bool(passed)


def read_decision(path: str | Path) -> dict:
    """Read a decision written by :func:`decide`."""
    record = json.loads(Path(path).read_text())
    missing = [k for k in GATE_FILE_KEYS if k not in record]
    if missing:
        raise ValueError(f"{path}: gate decision lacks {missing}")
    return record
