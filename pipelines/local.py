"""Run the training pipeline on this machine through ``kfp.local`` and summarise what happened.

There is no second orchestration path: this calls the same ``@dsl.pipeline`` function that
``labelgate compile`` writes for a cluster, under ``kfp.local.SubprocessRunner`` in the current
Python environment. KFP's own verbose log goes to ``<run>/pipeline.log``; the terminal gets one line
per step plus the steps' own progress lines.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import secrets
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from labelgate.run import (
    FAILURE_FILE,
    GATES,
    STEPS,
    GateDecision,
    RunSummary,
    Step,
    StepFailure,
    decide_outcome,
    format_summary,
    read_record,
    step_rows,
)

# Friendly names at the top of runs/<run-id>/ for the outputs people open first: (task, artifact) -> link.
SHORTCUTS = {
    (Step.EVALUATE, "report"): "report.html",
    (Step.WEAK_LABEL, "lf_analysis_html"): "lf_analysis.html",
    (Step.WEAK_LABEL, "lf_analysis"): "lf_analysis.md",
    (Step.VALIDATE, "report_html"): "validation.html",
    (Step.VALIDATE, "report"): "validation.md",
    (Step.TRAIN, "model"): "model",
    (Step.REPAIR, "report_html"): "repair.html",
    (Step.REPAIR, "report"): "repair.md",
    (Step.REPAIR, "repaired"): "repaired.parquet",
}
# The repair step's status in the summary when the config has no repair section (it passed the table through).
REPAIR_OFF = "off"

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_START = re.compile(r"^Executing task '([^']+)'")
_END = re.compile(r"^Task '([^']+)' finished with status (\w+)")
_STEP_LINE = re.compile(r"^\s*(labelgate(\[[\w-]+\])?:.*)$")


@dataclass
class StepRecord:
    """One step; a step inside a ``ParallelFor`` runs several times: its seconds span first start to last
    end, ``runs`` counts them, and one failed run fails the step."""

    name: str
    status: str = "not run"
    seconds: float | None = None
    runs: int = 0
    first_start: float | None = field(default=None, repr=False)
    running: list[float] = field(default_factory=list, repr=False)


class _StepWatcher(logging.Filter):
    """Watches kfp.local's log records for task starts and ends; prints one line per finished step."""

    def __init__(self, echo: Callable[[str], None]) -> None:
        super().__init__()
        self.echo = echo
        self.steps: dict[str, StepRecord] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        message = _ANSI.sub("", record.getMessage())
        if match := _START.match(message):
            step = self.steps.setdefault(match[1], StepRecord(match[1]))
            step.running.append(record.created)
            step.first_start = step.first_start or record.created
            step.runs += 1
            if step.status != "FAILED":
                step.status = "running"
            self.echo(f"  > {match[1]} ..." + (f" (#{step.runs})" if step.runs > 1 else ""))
        elif match := _END.match(message):
            step = self.steps.setdefault(match[1], StepRecord(match[1]))
            started = step.running.pop(0) if step.running else record.created
            ok = match[2] == "SUCCESS"
            if step.status != "FAILED":
                step.status = "ok" if ok else "FAILED"
            if step.first_start is not None:
                step.seconds = round(record.created - step.first_start, 2)
            self.echo(f"  {'ok' if ok else 'FAILED':>6} {match[1]:<11} {record.created - started:6.1f}s")
        return True


class _LogTee(io.TextIOBase):
    """Stands in for sys.stdout during the run: everything to the log file, step progress to the terminal."""

    def __init__(self, log: TextIO, echo: Callable[[str], None]) -> None:
        self.log, self.echo, self.pending = log, echo, ""

    def write(self, text: str) -> int:
        self.log.write(text)
        self.pending += text
        *lines, self.pending = self.pending.split("\n")
        for line in lines:
            if match := _STEP_LINE.match(_ANSI.sub("", line)):
                self.echo(f"         {match[1]}")
        return len(text)

    def flush(self) -> None:
        self.log.flush()


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)


def run_local(
    *,
    pipeline_func: Callable[..., Any],
    arguments: dict[str, Any],
    runs_dir: str | Path = "runs",
    run_id: str | None = None,
    echo: Callable[[str], None] | None = None,
    runner: str = "subprocess",
    docker: Any = None,
    image: str | None = None,
) -> RunSummary:
    """Run ``pipeline_func(**arguments)`` (`labelgate run` hands it ``labelgate.pipelines.training.pipeline``)
    with kfp.local; return its summary. ``runner``: ``subprocess`` (this Python environment) or ``docker``
    (every step in ``image``, the image the components were compiled with; see pipelines/containers.py,
    whose ``DockerSettings`` ``docker`` may carry)."""
    from kfp import local

    echo = echo or _printer(sys.stdout)
    run_id = run_id or new_run_id()
    run_dir = Path(runs_dir).resolve() / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    echo(f"labelgate run {run_id}: outputs in {_display(run_dir)}")

    watcher = _StepWatcher(echo)
    started = time.monotonic()
    with _runner(runner, arguments, run_dir, docker, image) as (kfp_runner, run_arguments), \
            open(run_dir / "pipeline.log", "w", encoding="utf-8") as log, _watching(watcher):
        with contextlib.redirect_stdout(_LogTee(log, echo)), warnings.catch_warnings():
            # The component image name carries no "python"; the subprocess runner warns about that.
            warnings.filterwarnings("ignore", message=".*custom or non-Python base image.*")
            # Cluster-only settings (pipelines/cluster.py: cpu/memory) are ignored here by design.
            warnings.filterwarnings("ignore", message=".*have no effect in the current local runner.*")
            local.init(runner=kfp_runner, pipeline_root=str(run_dir), raise_on_error=False)
            pipeline_func(**run_arguments)
    if runner == "docker":
        from labelgate.pipelines.containers import check_outputs

        check_outputs(watcher.steps, _task_root(run_dir))
    summary = summarise(run_dir=run_dir, run_id=run_id, watcher=watcher, arguments=arguments,
                        seconds=time.monotonic() - started)
    (run_dir / "summary.json").write_text(json.dumps(asdict(summary), indent=2, default=str))
    return summary


RUNNERS = ("subprocess", "docker")


@contextlib.contextmanager
def _runner(runner: str, arguments: dict[str, Any], run_dir: Path, docker: Any = None,
            image: str | None = None) -> Iterator[tuple[Any, dict[str, Any]]]:
    """The kfp.local runner and the arguments it runs the pipeline with."""
    from kfp import local

    if runner == "subprocess":
        yield local.SubprocessRunner(use_venv=False), arguments
    elif runner == "docker":
        from labelgate.pipelines.containers import container_run

        if not image:
            raise ValueError("the docker runner needs the component image the pipeline was compiled with")
        with container_run(arguments, run_dir, image=image, settings=docker) as containers:
            yield containers.runner, containers.arguments
    else:
        raise ValueError(f"unknown runner {runner!r}: choose one of {', '.join(RUNNERS)}")


def link_outputs(run_dir: Path, task_root: Path | None) -> dict[str, str]:
    """Symlink the outputs people open first to the top of the run folder; returns name -> target."""
    links = {}
    for (task, artifact), name in SHORTCUTS.items():
        target = task_root / task / artifact if task_root else None
        if target is None or not target.exists():
            continue
        link = run_dir / name
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(target.relative_to(run_dir))
        links[name] = str(link)
    return links


def _printer(stream: TextIO) -> Callable[[str], None]:
    """Whole lines, one writer at a time: parallel tasks (ParallelFor) report from several threads."""
    lock = threading.Lock()

    def echo(line: str) -> None:
        with lock:
            stream.write(line + "\n")
            stream.flush()

    return echo


@contextlib.contextmanager
def _watching(watcher: _StepWatcher) -> Iterator[None]:
    root = logging.getLogger()
    root.addFilter(watcher)
    try:
        yield
    finally:
        root.removeFilter(watcher)


def summarise(*, run_dir: Path, run_id: str, watcher: _StepWatcher, arguments: dict[str, Any],
              seconds: float) -> RunSummary:
    """Read the step records and outputs under ``run_dir`` and decide the outcome (``labelgate.run``)."""
    task_root = _task_root(run_dir)
    gates: dict[str, GateDecision] = {}
    for gate in GATES:
        decision = task_root / gate / "decision" if task_root else None
        if decision and decision.exists():
            record = read_record(decision)
            if isinstance(record, GateDecision):
                gates[gate] = record
    statuses = {name: (step.status, step.seconds, step.runs) for name, step in watcher.steps.items()}
    if statuses.get(Step.REPAIR, ("",))[0] == "ok" and \
            _artifact_metadata(task_root, Step.REPAIR, "metrics").get("repair_on") == 0:
        statuses[Step.REPAIR] = (REPAIR_OFF, *statuses[Step.REPAIR][1:])
    failure = _first_failure(task_root, [*watcher.steps])
    metrics = _artifact_metadata(task_root, Step.EVALUATE, "metrics")
    pushed = _pushed(task_root)
    if pushed is not None:
        pushed = {"model_name": arguments.get("model_name"), "registry_uri": arguments.get("registry_uri"), **pushed}
    push_ok = pushed is not None and statuses.get(Step.PUSH, ("",))[0] == "ok"
    outcome = decide_outcome(
        pushed=push_ok, push_label=f"{arguments.get('model_name', 'model')} version {(pushed or {}).get('version')}",
        failure=failure, step_failed=any(status == "FAILED" for status, _, _ in statuses.values()), gates=gates)
    return RunSummary(
        run_id=run_id, location=str(run_dir), exit_code=outcome.exit_code, outcome=outcome.text,
        steps=step_rows(statuses, blocked=any(not g.passed for g in gates.values())),
        gates={name: asdict(g) for name, g in gates.items()}, failure=asdict(failure) if failure else None,
        metrics=metrics, pushed=pushed, outputs=link_outputs(run_dir, task_root), arguments=arguments,
        seconds=round(seconds, 1), data=_data_roles(task_root),
    )


def _data_roles(task_root: Path | None) -> dict[str, Any]:
    """The ingest step's roles, left-out rows and warnings, for the summary."""
    metadata = _artifact_metadata(task_root, Step.INGEST, "data")
    return {key: metadata[key] for key in ("roles", "dropped", "warnings") if key in metadata}


def _task_root(run_dir: Path) -> Path | None:
    """kfp.local writes ``<pipeline_root>/<pipeline-name>-<timestamp>/<task>/``; take the newest."""
    candidates = sorted((p for p in run_dir.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
    return candidates[-1] if candidates else None


def _first_failure(task_root: Path | None, seen: list[str]) -> StepFailure | None:
    """The failure record of the earliest step (in pipeline order) that wrote one; a step inside a
    ``ParallelFor`` writes it under ``for-loop-*-iteration-*/<step>/``."""
    if task_root is None:
        return None
    found = {path.parent.name: path for path in sorted(task_root.rglob(FAILURE_FILE))}
    for name in [*STEPS, *seen, *sorted(found)]:
        if name in found:
            record = read_record(found[name])
            if isinstance(record, StepFailure):
                return record
    return None


def _executor_output(task_root: Path | None, task: str) -> dict[str, Any]:
    path = task_root / task / "executor_output.json" if task_root else None
    return json.loads(path.read_text()) if path and path.exists() else {}


def _artifact_metadata(task_root: Path | None, task: str, artifact: str) -> dict[str, Any]:
    output = _executor_output(task_root, task)
    entries = output.get("artifacts", {}).get(artifact, {}).get("artifacts", [])
    return dict(entries[0].get("metadata", {})) if entries else {}


def _pushed(task_root: Path | None) -> dict[str, Any] | None:
    output = _executor_output(task_root, Step.PUSH)
    if not output:
        return None
    params = output.get("parameterValues", {})
    details = _artifact_metadata(task_root, Step.PUSH, "pushed")
    version = params.get("version", params.get("Output"))
    return {**details, **({"version": version} if version is not None else {})}


def _display(path: str | Path) -> str:
    """``path`` relative to the working directory when it lies below it (shorter to read), else absolute."""
    path = Path(os.path.abspath(path))  # abspath, not resolve: the shortcuts are symlinks to keep as named
    try:
        return str(path.relative_to(Path(os.path.abspath(Path.cwd()))))
    except ValueError:
        return str(path)


def format_local_summary(summary: RunSummary) -> str:
    """`labelgate run`'s end-of-run printout (``labelgate.run.format_summary``, paths shortened)."""
    return format_summary(summary, display=_display)
