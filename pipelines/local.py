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
import shutil
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from labelgate.parameters import PIPELINE_NAME
from labelgate.run import (
    FAILURE_FILE,
    GATES,
    NEVER_REUSED,
    STEP_WIDTH,
    STEPS,
    GateDecision,
    RunSummary,
    Step,
    StepFailure,
    decide_outcome,
    read_record,
    step_rows,
)
from labelgate.summary import format_summary

# Friendly names at the top of runs/<run-id>/ for the outputs people open first: (task, artifact) -> name. Each
# file's name ends in what a browser renders (.html, .md): KFP names artifact files without an extension.
SHORTCUTS = {
    (Step.EVALUATE, "report"): "report.html",
    (Step.WEAK_LABEL, "lf_analysis_html"): "lf_analysis.html",
    (Step.WEAK_LABEL, "lf_analysis"): "lf_analysis.md",
    (Step.VALIDATE, "report_html"): "validation.html",
    (Step.VALIDATE, "report"): "validation.md",
    (Step.SELECT_MODEL, "model"): "model",
    (Step.REPAIR, "report_html"): "repair.html",
    (Step.REPAIR, "report"): "repair.md",
    (Step.REPAIR, "repaired"): "repaired.parquet",
}
# The repair step's status in the summary when the config has no repair section (it passed the table through).
REPAIR_OFF = "off"

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_START = re.compile(r"^Executing task '([^']+)'")
_END = re.compile(r"^Task '([^']+)' finished with status (\w+)")
_REUSED = re.compile(r"^Task (\S+) cache hit \(key=([0-9a-f]+)\)")
# kfp.local's task cache of a run (one JSON entry per finished task), inside the run's folder.
CACHE_DIR = ".kfp_cache"
REUSED = "reused"
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
    """Watches kfp.local's log records for task starts, ends and cache hits; prints one line per finished step."""

    def __init__(self, echo: Callable[[str], None]) -> None:
        super().__init__()
        self.echo = echo
        self.steps: dict[str, StepRecord] = {}
        self.reused: dict[str, list[str]] = {}  # task -> the cache keys (prefixes) it was reused from

    def filter(self, record: logging.LogRecord) -> bool:
        message = _ANSI.sub("", record.getMessage())
        if match := _REUSED.match(message):
            step = self.steps.setdefault(match[1], StepRecord(match[1]))
            step.runs += 1
            if step.status in ("not run", REUSED):
                step.status = REUSED
            self.reused.setdefault(match[1], []).append(match[2])
            self.echo(f"  {REUSED:>6} {match[1]:<{STEP_WIDTH}} (unchanged: the earlier run's outputs)")
        elif match := _START.match(message):
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
            self.echo(f"  {'ok' if ok else 'FAILED':>6} {match[1]:<{STEP_WIDTH}} {record.created - started:6.1f}s")
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
    resume_from: str | Path | None = None,
    flags: dict[str, Any] | None = None,
) -> RunSummary:
    """Run ``pipeline_func(**arguments)`` (`labelgate run` hands it ``labelgate.pipelines.training.pipeline``)
    with kfp.local; return its summary. ``runner``: ``subprocess`` (this Python environment) or ``docker``
    (every step in ``image``, the image the components were compiled with; see pipelines/containers.py,
    whose ``DockerSettings`` ``docker`` may carry).

    kfp.local's task cache is on, in the run's folder (``CACHE_DIR``): a task whose arguments equal those of a
    task that finished before is not run again but handed that task's outputs. Every run starts with an empty
    cache, so nothing is reused, except with ``resume_from`` (an earlier run's folder), whose cache entries are
    copied in first. The arguments carry content digests (``labelgate.run.DIGESTS``) and a reused task's outputs
    are the earlier run's files, so a step is reused only while nothing it reads changed, and every step after
    a re-run one runs again. ``flags`` (the command line's) are kept in the summary for a later resume."""
    from kfp import local

    echo = echo or _printer(sys.stdout)
    run_id = run_id or new_run_id()
    run_dir = Path(runs_dir).resolve() / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    echo(f"labelgate run {run_id}: outputs in {_display(run_dir)}")
    cache = run_dir / CACHE_DIR
    if resume_from is not None:
        _copy_cache(Path(resume_from) / CACHE_DIR, cache)
        echo(f"  resuming {Path(resume_from).name}: its unchanged steps are reused")

    watcher = _StepWatcher(echo)
    started = time.monotonic()
    with _process_state_kept(), _runner(runner, arguments, run_dir, docker, image) as (kfp_runner, run_arguments), \
            open(run_dir / "pipeline.log", "w", encoding="utf-8") as log, _watching(watcher), \
            _task_cache_on(pipeline_func):
        with contextlib.redirect_stdout(_LogTee(log, echo)), warnings.catch_warnings():
            # The component image name carries no "python"; the subprocess runner warns about that.
            warnings.filterwarnings("ignore", message=".*custom or non-Python base image.*")
            # Cluster-only settings (pipelines/cluster.py: cpu/memory) are ignored here by design.
            warnings.filterwarnings("ignore", message=".*have no effect in the current local runner.*")
            local.init(runner=kfp_runner, pipeline_root=str(run_dir), raise_on_error=False, enable_caching=True,
                       cache_root=str(cache))
            pipeline_func(**run_arguments)
    if runner == "docker":
        from labelgate.pipelines.containers import check_outputs

        check_outputs(watcher.steps, _task_root(run_dir))
    _write_metadata_only_outputs(cache, run_dir)
    _link_reused(run_dir, watcher.reused, cache)
    summary = summarise(run_dir=run_dir, run_id=run_id, watcher=watcher, arguments=arguments,
                        seconds=time.monotonic() - started)
    summary.flags = dict(flags or {})
    summary.resumed_from = Path(resume_from).name if resume_from is not None else None
    (run_dir / "summary.json").write_text(json.dumps(asdict(summary), indent=2, default=str))
    return summary


RUNNERS = ("subprocess", "docker")


@contextlib.contextmanager
def _task_cache_on(pipeline_func: Callable[..., Any]) -> Iterator[None]:
    """kfp's cache on for every task but ``NEVER_REUSED`` (off for those), for this run only. The pipeline's cluster settings turn
    it off for every task (on a cluster the arguments carry no content digests and a cache keyed on paths would
    reuse stale outputs); kfp.local reads the same flag from the same spec, and here the arguments do carry
    the digests. The flag is put back afterwards, so a pipeline compiled later in this process is unchanged."""
    spec = getattr(pipeline_func, "pipeline_spec", None)
    if spec is None:  # a plain function (tests): nothing to switch
        yield
        return
    dags = [spec.root.dag, *(component.dag for component in spec.components.values() if component.HasField("dag"))]
    switched = [(task, task.caching_options.enable_cache, name not in NEVER_REUSED)
                for dag in dags for name, task in dag.tasks.items()]
    for task, _, on in switched:
        task.caching_options.enable_cache = on
    try:
        yield
    finally:
        for task, before, _ in switched:
            task.caching_options.enable_cache = before


def _copy_cache(source: Path, target: Path) -> None:
    """An earlier run's cache entries (small JSON files naming its output files) into this run's cache."""
    target.mkdir(parents=True, exist_ok=True)
    for entry in source.glob("*.json") if source.is_dir() else []:
        shutil.copyfile(entry, target / entry.name)


def _write_metadata_only_outputs(cache: Path, run_dir: Path) -> None:
    """Give each output of this run that has no file (a Metrics artifact is metadata only) a JSON file of its
    metadata at its URI: kfp's cache takes an entry whose output file is missing for a miss, so the steps that
    log metrics (weak-label, validate, train, evaluate) would never be reused."""
    for item in _cached_artifacts(cache, ""):
        uri = item["uri"]
        if Path(uri).exists() or not Path(uri).is_relative_to(run_dir):
            continue
        Path(uri).parent.mkdir(parents=True, exist_ok=True)
        Path(uri).write_text(json.dumps(item.get("metadata") or {}, indent=1, default=str))


def _link_reused(run_dir: Path, reused: dict[str, list[str]], cache: Path) -> None:
    """Link each reused task's folder of the earlier run into this run's task root, where the summary, the
    shortcuts and `labelgate report` look: a reused task wrote nothing here. A task with only parameter
    outputs (plan-shards) has no folder to link; one reused inside a ParallelFor is left where it is."""
    if not reused:
        return
    task_root = _task_root(run_dir)
    if task_root is None:
        task_root = run_dir / f"{PIPELINE_NAME}-{datetime.now(UTC).strftime('%Y-%m-%d-%H-%M-%S-%f')}"
        task_root.mkdir()
    for task, keys in reused.items():
        folders = {Path(uri).parent for key in keys for uri in _cached_uris(cache, key)}
        link = task_root / task
        if len(folders) != 1 or link.exists() or link.is_symlink():
            continue
        folder = folders.pop().resolve()
        if folder.name == task:
            link.symlink_to(folder, target_is_directory=True)


def _cached_artifacts(cache: Path, key_prefix: str) -> Iterator[dict]:
    """Each output artifact with a local file URI in the cache entries whose key starts with ``key_prefix``
    (kfp logs 12 characters; "" for every entry); unreadable entries are skipped."""
    for entry in cache.glob(f"{key_prefix}*.json"):
        try:
            outputs = json.loads(entry.read_text())
        except (OSError, ValueError):
            continue
        for value in outputs.values():
            for item in (value.get("artifacts", [value]) if isinstance(value, dict) else []):
                if isinstance(item, dict) and item.get("uri") and "://" not in item["uri"]:
                    yield item


def _cached_uris(cache: Path, key_prefix: str) -> list[str]:
    """The output file URIs in the cache entry whose key starts with ``key_prefix``."""
    return [item["uri"] for item in _cached_artifacts(cache, key_prefix)]


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
    """Put the outputs people open first at the top of the run folder; returns name -> path. A file is hard-linked
    (copied where that fails) under its shortcut's name, not symlinked: a browser resolves a symlink and goes by
    the target's name, and KFP's artifact files have no extension, so ``report.html -> evaluate/report`` would
    show the page's source as text. A folder (the model) is symlinked."""
    links = {}
    for (task, artifact), name in SHORTCUTS.items():
        target = task_root / task / artifact if task_root else None
        if target is None or not target.exists():
            continue
        link = run_dir / name
        if link.is_symlink() or link.is_file():
            link.unlink()
        if target.is_dir():
            link.symlink_to(os.path.relpath(target, run_dir))
        else:
            try:
                os.link(target.resolve(), link)
            except OSError:  # another file system, or no hard links there
                shutil.copyfile(target, link)
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
def _process_state_kept() -> Iterator[None]:
    """What kfp.local changes in this process does not outlive the run: its indenting ``print`` and the log
    handlers it attaches (to the run's stdout, a log file closed afterwards). A caller that runs several
    pipelines in one process (`labelgate monitor --retrain`, tests) would otherwise print indented and log
    into a closed file."""
    import builtins

    original_print = builtins.print
    loggers = [logging.getLogger(), *[logging.getLogger(n) for n in list(logging.root.manager.loggerDict)]]
    handlers = {id(lg): list(lg.handlers) for lg in loggers}
    try:
        yield
    finally:
        builtins.print = original_print
        for lg in [logging.getLogger(), *[logging.getLogger(n) for n in list(logging.root.manager.loggerDict)]]:
            before = handlers.get(id(lg), [])
            for handler in list(lg.handlers):
                if handler not in before and isinstance(getattr(handler, "stream", None), _LogTee):
                    lg.removeHandler(handler)


@contextlib.contextmanager
def _watching(watcher: _StepWatcher) -> Iterator[None]:
    root = logging.getLogger()
    level = root.level
    # kfp.local logs a cache hit at INFO outside the logging context it sets up around a task's run: let INFO
    # reach the watcher, and give the root logger a handler that prints nothing (else logging.info() would
    # add one printing to stderr); the watcher prints its own line.
    quiet = logging.NullHandler()
    root.addFilter(watcher)
    root.addHandler(quiet)
    root.setLevel(min(level, logging.INFO) if level else logging.INFO)
    try:
        yield
    finally:
        root.removeFilter(watcher)
        root.removeHandler(quiet)
        root.setLevel(level)


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
    """The ingest step's roles, left-out rows, warnings and notes, for the summary."""
    metadata = _artifact_metadata(task_root, Step.INGEST, "data")
    return {key: metadata[key] for key in ("roles", "dropped", "warnings", "notes") if key in metadata}


def _task_root(run_dir: Path) -> Path | None:
    """kfp.local writes ``<pipeline_root>/<pipeline-name>-<timestamp>/<task>/``; take the newest (not the cache,
    nor a link such as the model shortcut)."""
    candidates = sorted((p for p in run_dir.iterdir()
                         if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")),
                        key=lambda p: p.stat().st_mtime)
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
    """`labelgate run`'s end-of-run printout (``labelgate.summary.format_summary``, paths shortened)."""
    return format_summary(summary, display=_display)
