"""Submit the compiled pipeline to a KFP cluster: upload a version, start a run or a schedule, wait, summarise.

The summary has the same shape and printout as `labelgate run` (``labelgate.pipelines.local``), so CI and
people read one format whichever path ran the pipeline.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from labelgate.cluster.kfp_api import TERMINAL_STATES, ClusterError, KfpApi
from labelgate.run import (
    EXIT_OK,
    GATES,
    STEP_WIDTH,
    STEPS,
    GateDecision,
    RunSummary,
    StepFailure,
    decide_outcome,
    records_in_log,
    step_rows,
)
from labelgate.summary import format_summary

# KFP IR parameter types -> how a command-line string becomes that value.
_PARAMETER_TYPES: dict[str, Callable[[str], Any]] = {
    "STRING": str,
    "NUMBER_INTEGER": int,
    "NUMBER_DOUBLE": float,
    "BOOLEAN": lambda text: {"true": True, "false": False}[text.strip().lower()],
}
_STATE_WORDS = {"SUCCEEDED": "ok", "FAILED": "FAILED", "SKIPPED": "skipped", "CANCELED": "canceled",
                "CANCELING": "canceled", "RUNNING": "running", "PENDING": "pending"}
_CRON_FIELD = re.compile(r"^[0-9A-Za-z*?/,#LW-]+$")


@dataclass(frozen=True)
class Uploaded:
    pipeline_id: str
    version_id: str
    version_name: str


def read_package(package: Path) -> dict[str, Any]:
    """The pipeline spec document of a compiled IR YAML (the first YAML document)."""
    if not package.is_file():
        raise ClusterError(f"no compiled pipeline at {package}: run `make compile` (or `labelgate compile "
                           f"--output {package}`) first")
    try:
        spec = next(iter(yaml.safe_load_all(package.read_text())))
    except (yaml.YAMLError, StopIteration) as exc:
        raise ClusterError(f"{package} is not a compiled KFP pipeline: {exc}") from None
    if not isinstance(spec, dict) or "root" not in spec or "pipelineInfo" not in spec:
        raise ClusterError(f"{package} is not a compiled KFP pipeline (no pipelineInfo/root)")
    return spec


def coerce_parameters(spec: dict[str, Any], assignments: list[str]) -> dict[str, Any]:
    """Turn ``name=value`` strings into typed run parameters, checked against the pipeline's inputs."""
    declared = spec["root"].get("inputDefinitions", {}).get("parameters", {})
    values: dict[str, Any] = {}
    for item in assignments:
        name, sep, text = item.partition("=")
        if not sep:
            raise ClusterError(f"parameter {item!r} must look like name=value")
        if name not in declared:
            raise ClusterError(f"the pipeline has no parameter {name!r}; it has: {', '.join(sorted(declared))}")
        kind = declared[name].get("parameterType", "STRING")
        try:
            values[name] = _PARAMETER_TYPES.get(kind, str)(text)
        except (ValueError, KeyError):
            raise ClusterError(f"parameter {name}={text!r} is not a valid {kind}") from None
    return values


def normalise_cron(cron: str) -> str:
    """KFP schedules take 6-field cron (seconds first); a usual 5-field cron gets ``0`` seconds."""
    fields = cron.split()
    if len(fields) == 5:
        fields = ["0", *fields]
    if len(fields) != 6 or not all(_CRON_FIELD.match(f) for f in fields):
        raise ClusterError(f"cron {cron!r} must have 5 fields (min hour day month weekday) or 6 (seconds first), "
                           "e.g. '0 3 * * *' for 03:00 every day")
    return " ".join(fields)


def default_version_name(now: datetime | None = None) -> str:
    return "v" + (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")


def upload(api: KfpApi, *, package: Path, pipeline_name: str, version_name: str,
           description: str = "") -> Uploaded:
    """Upload ``package`` as a new version of ``pipeline_name``, creating the pipeline on first use."""
    read_package(package)
    pipeline = api.find_pipeline(pipeline_name)
    if pipeline is None:
        pipeline = api.upload_pipeline(package=package, name=pipeline_name, description=description)
        version = api.latest_version(pipeline.pipeline_id)
    else:
        version = api.upload_version(package=package, pipeline_id=pipeline.pipeline_id, name=version_name,
                                     description=description)
    return Uploaded(pipeline_id=pipeline.pipeline_id, version_id=version.pipeline_version_id,
                    version_name=version.display_name or version_name)


def start_run(api: KfpApi, *, uploaded: Uploaded, experiment: str, run_name: str,
              parameters: dict[str, Any], service_account: str | None) -> Any:
    """Create a run of the uploaded version in ``experiment`` (created when missing)."""
    exp = api.ensure_experiment(experiment, description="labelgate runs")
    return api.create_run(name=run_name, experiment_id=exp.experiment_id, pipeline_id=uploaded.pipeline_id,
                          version_id=uploaded.version_id, parameters=parameters, service_account=service_account)


def schedule(api: KfpApi, *, uploaded: Uploaded, experiment: str, name: str, cron: str,
             parameters: dict[str, Any], max_concurrency: int, service_account: str | None) -> Any:
    """Create a recurring run of the uploaded version (continuous training)."""
    if not 1 <= max_concurrency <= 10:
        raise ClusterError(f"max concurrency {max_concurrency} must be between 1 and 10 (KFP's limit)")
    exp = api.ensure_experiment(experiment, description="labelgate runs")
    return api.create_recurring_run(name=name, experiment_id=exp.experiment_id, pipeline_id=uploaded.pipeline_id,
                                    version_id=uploaded.version_id, parameters=parameters,
                                    cron=normalise_cron(cron), max_concurrency=max_concurrency,
                                    service_account=service_account)


def wait_for_run(api: KfpApi, run_id: str, *, timeout_seconds: float, poll_seconds: float = 10.0,
                 echo: Callable[[str], None] = print, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic, heartbeat_seconds: float = 60.0) -> Any:
    """Poll a run until it ends; echo each step as it finishes, and what is running every
    ``heartbeat_seconds`` in between. Raises ClusterError on timeout."""
    started = clock()
    deadline, next_beat = started + timeout_seconds, started + heartbeat_seconds
    seen: dict[str, str] = {}
    while True:
        run = api.get_run(run_id)
        steps = _step_tasks(run)
        if clock() >= next_beat and _state(run) not in TERMINAL_STATES:
            running = [name for name, tasks in steps.items() if _group_state(tasks) == "RUNNING"]
            echo(f"  ... {', '.join(running) or _state(run).lower()} ({clock() - started:.0f}s)")
            next_beat = clock() + heartbeat_seconds
        for name, tasks in steps.items():
            state = _group_state(tasks)
            if seen.get(name) != state:
                seen[name] = state
                if state in TERMINAL_STATES:
                    echo(f"  {_STATE_WORDS.get(state, state.lower()):>7} {name:<{STEP_WIDTH}} "
                         f"{_group_seconds(tasks) or 0:6.1f}s")
        if _state(run) in TERMINAL_STATES:
            return run
        if clock() >= deadline:
            raise ClusterError(f"run {run_id} is still {_state(run)} after {timeout_seconds:.0f}s; "
                               f"follow it at {api.run_url(run_id)}")
        sleep(poll_seconds)


def summarise_run(run: Any, *, run_url: str, arguments: dict[str, Any],
                  read_log: Callable[[str], str] | None = None) -> RunSummary:
    """Turn a finished KFP run into `labelgate run`'s summary. Gate decisions and step failures are the
    records the steps printed as JSON lines (``labelgate.run``), read from their pod logs when ``read_log``
    (pod name -> log text) is given; the REST API does not carry them. A step inside a ParallelFor is one
    task per iteration: it failed if any iteration failed, and its seconds span them all."""
    tasks = _step_tasks(run)
    statuses = {name: (_STATE_WORDS.get(_group_state(group), _group_state(group).lower()), _group_seconds(group),
                       len(group)) for name, group in tasks.items()}
    records = {name: records_in_log("\n".join(_safe_log(read_log, task) for task in tasks[name]))
               for name in statuses if read_log}

    gates: dict[str, GateDecision] = {}
    for gate, guarded in GATES.items():
        if statuses.get(gate, ("",))[0] != "ok":
            continue
        found = [r for r in records.get(gate, []) if isinstance(r, GateDecision)]
        gates[gate] = found[-1] if found else GateDecision(
            gate=gate, passed=statuses.get(guarded, ("not run",))[0] not in ("skipped", "not run"),
            reason=f"see the {gate} step's decision artifact at {run_url}")

    failure = None
    failed = [name for name in STEPS if statuses.get(name, ("",))[0] == "FAILED"]
    if failed:
        found = [r for r in records.get(failed[0], []) if isinstance(r, StepFailure)]
        failure = found[-1] if found else StepFailure(
            step=failed[0], error="StepFailed",
            message=next(filter(None, map(_task_error, tasks[failed[0]])), "") or f"see the step's log at {run_url}")
    state = _state(run)
    outcome = decide_outcome(
        pushed=statuses.get("push", ("",))[0] == "ok", push_label=arguments.get("model_name", "the model"),
        failure=failure, step_failed=bool(failed), gates=gates, ended=None if state == "SUCCEEDED" else state)
    created, finished = getattr(run, "created_at", None), getattr(run, "finished_at", None)
    seconds = (finished - created).total_seconds() if created and finished else 0.0
    return RunSummary(
        run_id=run.run_id, location=run_url, exit_code=outcome.exit_code, outcome=outcome.text,
        steps=step_rows(statuses, blocked=any(not g.passed for g in gates.values())),
        gates={name: asdict(g) for name, g in gates.items()}, failure=asdict(failure) if failure else None,
        pushed={"model": arguments.get("model_name", ""), "run": run_url} if outcome.exit_code == EXIT_OK else None,
        outputs={"run": run_url}, arguments=arguments, seconds=round(max(seconds, 0.0), 1), on_cluster=True,
    )


def format_cluster_summary(summary: RunSummary) -> str:
    """`labelgate run`'s printout, with the run's page in place of the local output folder."""
    return format_summary(summary)


def _tasks(run: Any) -> list[Any]:
    details = getattr(run, "run_details", None)
    return [t for t in (getattr(details, "task_details", None) or []) if getattr(t, "display_name", None)]


def _step_tasks(run: Any) -> dict[str, list[Any]]:
    """The run's tasks of each pipeline step by name; the API lists one per ParallelFor iteration, and
    tasks of its own (drivers, executors, DAGs) that are no step."""
    steps: dict[str, list[Any]] = {}
    for task in _tasks(run):
        if task.display_name in STEPS:
            steps.setdefault(task.display_name, []).append(task)
    return steps


# Which state a step with several tasks (ParallelFor iterations) is in: the first here that any task is in.
_GROUP_STATE_ORDER = ("FAILED", "CANCELED", "CANCELING", "RUNNING", "PENDING", "PAUSED", "SUCCEEDED", "SKIPPED")


def _group_state(tasks: list[Any]) -> str:
    states = {_state(task) for task in tasks}
    return next((s for s in _GROUP_STATE_ORDER if s in states), _state(tasks[0]))


def _group_seconds(tasks: list[Any]) -> float | None:
    if len(tasks) == 1:
        return _seconds(tasks[0])
    starts = [t.start_time for t in tasks if getattr(t, "start_time", None)]
    ends = [t.end_time for t in tasks if getattr(t, "end_time", None)]
    if len(ends) < len(tasks) or not starts or max(ends) < min(starts):
        return None
    return round((max(ends) - min(starts)).total_seconds(), 2)


def _state(obj: Any) -> str:
    return str(getattr(obj, "state", None) or "RUNTIME_STATE_UNSPECIFIED")


def _seconds(task: Any) -> float | None:
    start, end = getattr(task, "start_time", None), getattr(task, "end_time", None)
    if not start or not end or end < start:
        return None
    return round((end - start).total_seconds(), 2)


def _task_error(task: Any) -> str:
    error = getattr(task, "error", None)
    return str(getattr(error, "message", "") or "")


def task_pods(task: Any) -> list[str]:
    """The pods a step's task ran in. KFP on Argo names them only in ``child_tasks`` (the step is a DAG node
    whose child is its executor pod; the API server never fills the task's own ``pod_name``, and gives the
    Argo node id there, which `kubectl` resolves through the pod's node-id annotation); a server that
    fills ``pod_name`` is read too."""
    children = [getattr(c, "pod_name", None) for c in getattr(task, "child_tasks", None) or []]
    return [pod for pod in [*children, getattr(task, "pod_name", None)] if pod]


def _safe_log(read_log: Callable[[str], str] | None, task: Any) -> str:
    if not read_log:
        return ""
    logs = []
    for pod in task_pods(task):
        try:
            logs.append(read_log(pod))
        except Exception:  # a missing log must not hide the run's outcome
            continue
    return "\n".join(logs)
