"""End-to-end fixtures: the real `labelgate run` CLI, as `make run` calls it, in a scratch registry."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class CliRun:
    exit_code: int
    output: str
    summary: dict


@pytest.fixture(scope="session")
def labelgate_run(tmp_path_factory):
    """Call `labelgate run` in a subprocess from the project root; returns exit code, output, summary.json."""
    base = tmp_path_factory.mktemp("e2e")

    def run(*args: str, run_id: str, registry: Path | None = None, env: dict[str, str] | None = None) -> CliRun:
        registry = registry or base / "registry"
        registry.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable, "-m", "labelgate.cli", "run", "--runs-dir", str(base / "runs"), "--run-id", run_id,
            "--registry-uri", f"sqlite:///{registry}/mlflow.db", *args,
        ]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900,
                              env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})})
        summary_path = base / "runs" / run_id / "summary.json"
        summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
        return CliRun(done.returncode, done.stdout + done.stderr, summary)

    return run
