"""A pipeline run: its steps and gates, the records steps write, the outcome rule and the summary record.

Both orchestration paths (the kfp.local runner in ``labelgate.pipelines.local`` and cluster submission in
``labelgate.cluster.submit``) read what the steps recorded through this module and decide a run's outcome
and exit code with :func:`decide_outcome`, so a run means the same wherever it ran.

Steps talk to the orchestrator through structured records, never through printed prose: a gate writes a
:class:`GateDecision`, a step that rejects its input writes a :class:`StepFailure`. Each record is a JSON
file beside the step's outputs *and* one JSON line on the step's stdout, because a failed step on a cluster
uploads no outputs and only its log is left. :func:`parse_record` reads either.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from labelgate.errors import ChampionMovedError, DataError, LabelgateError, ModelError


class Step(StrEnum):
    """The pipeline's steps by task name (the component function's name with ``-`` for ``_``), in order."""

    INGEST = "ingest"
    REPAIR = "repair"
    PLAN_SHARDS = "plan-shards"
    APPLY_LFS = "apply-lfs"
    WEAK_LABEL = "weak-label"
    VALIDATE = "validate"
    DATA_GATE = "data-gate"
    PLAN_SEARCH = "plan-search"
    TRAIN = "train"
    SELECT_MODEL = "select-model"
    EVALUATE = "evaluate"
    MODEL_GATE = "model-gate"
    PUSH = "push"


STEPS: tuple[str, ...] = tuple(s.value for s in Step)
STEP_WIDTH = max(map(len, STEPS))  # the step-name column of the printed progress and summary
# The monitoring pipeline's first step (pipelines/monitoring.py); its gate record says whether the traffic drifted.
MONITOR_STEP = "monitor"
# Content digests `labelgate run` passes as pipeline parameters (name -> what it covers), so that kfp.local's task
# cache, which keys on a task's arguments, keys on what the files hold rather than on their paths: each step takes
# the digests of what it reads, and an unchanged step of an earlier run is reused (`labelgate run --resume`).
DIGESTS: dict[str, str] = {
    "data_digest": "the data (the ingest fingerprint)",
    "lfs_digest": "the LF module's source",
    "suite_digest": "the expectation suite and the constraints",
    "setup_digest": "the config file and labelgate's code",
    "champion_digest": "the registry's champion, read afresh by every run",
}
# Steps never reused from an earlier run: they act on the registry.
NEVER_REUSED: tuple[str, ...] = ("push",)
# Each gate and the step that runs only when it passes.
GATES: dict[str, str] = {Step.DATA_GATE.value: Step.PLAN_SEARCH.value, Step.MODEL_GATE.value: Step.PUSH.value}
# What a person can try when a gate blocks (docs/own-data.md, "When a gate blocks", says more): each hint with the
# run's dev rows it applies to (None: any; "none": a run without labeled dev rows; "some": a run with them).
GATE_HINTS: dict[str, tuple[tuple[str, str | None], ...]] = {
    Step.DATA_GATE.value: (
        ("open validation.html for the failed checks and examples; fix the data, or set that check's severity to "
         "warning in the suite/constraints if it is wrong for your data", None),),
    Step.MODEL_GATE.value: (
        ("improve the LFs first (labelgate lfs: low accuracy or low coverage, classes no LF votes for)", None),
        ("give a labeled dev file so the label model can choose on dev", "none"),
        ("for a rare class set labeling.class_balance", None),
        ("training.dev_weight: 1.0 learns from the dev rows too", "some"),
        ("more labeled valid rows like the data you will serve (they choose the model, then it learns from them: "
         "training.refit_valid_weight)", None),
        ("lower pipeline.min_test_f1/min_test_accuracy only if they were set too high (docs/own-data.md)", None),
    ),
}


def gate_hint(gate: str, dev_rows: int | None) -> str | None:
    """The hints for a blocked ``gate``, as one line, for a run with ``dev_rows`` labeled dev rows (None: not
    known, every hint)."""
    wanted = None if dev_rows is None else ("some" if dev_rows else "none")
    hints = [text for text, when in GATE_HINTS.get(gate, ()) if when is None or wanted is None or when == wanted]
    return "; ".join(hints) or None


# Errors that mean "this input or these labels must not become a model": the run is blocked, not broken.
# A push whose evaluation was against a champion that has since moved is blocked too: nothing broke,
# the version is verified and kept, but it was not compared with the model it would replace.
BLOCKING_ERRORS: frozenset[str] = frozenset({DataError.__name__, ModelError.__name__, ChampionMovedError.__name__})

# Exit codes of `labelgate run` and the cluster commands: CI tells "blocked" from "broken".
EXIT_OK, EXIT_ERROR, EXIT_BLOCKED = 0, 1, 3
# `labelgate monitor --retrain` only: drift started a training run and that run pushed a new champion (a run it
# started that was blocked or broke exits with the run's own code, 3 or 1; no drift exits 0 and starts nothing).
EXIT_RETRAINED = 4

# The file a failed step leaves beside its first output.
FAILURE_FILE = "failure.json"
# The key that marks a JSON object (file or log line) as a labelgate record, and its kinds.
RECORD_KEY = "labelgate_record"
_GATE, _FAILURE = "gate", "failure"


def task_name(component: str) -> str:
    """The task (step) name KFP gives a component function: ``weak_label`` -> ``weak-label``."""
    return component.replace("_", "-")


@dataclass(frozen=True)
class GateDecision:
    """A gate's verdict: may the run go on, and why (a sentence a person can act on)."""

    gate: str
    passed: bool
    reason: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "gate", str(self.gate))  # a Step is stored as its plain name

    @property
    def verdict(self) -> str:
        return "PASSED" if self.passed else "BLOCKED"


@dataclass(frozen=True)
class StepFailure:
    """A step stopped on a :class:`~labelgate.errors.LabelgateError`: which step, the error kind, the message."""

    step: str
    error: str
    message: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "step", str(self.step))

    @property
    def blocking(self) -> bool:
        """True when the error rejects the input (exit 3) rather than reporting a breakage (exit 1)."""
        return self.error in BLOCKING_ERRORS


Record = GateDecision | StepFailure
_KINDS: dict[str, type[GateDecision] | type[StepFailure]] = {_GATE: GateDecision, _FAILURE: StepFailure}
_TYPES: dict[str, type] = {"gate": str, "passed": bool, "reason": str, "step": str, "error": str, "message": str}


def record_json(record: Record, *, indent: int | None = None) -> str:
    """The JSON text of a record (one line unless ``indent``)."""
    kind = _GATE if isinstance(record, GateDecision) else _FAILURE
    return json.dumps({RECORD_KEY: kind, **asdict(record)}, indent=indent)


def parse_record(text: str, *, where: str = "record") -> Record:
    """Read a record from its JSON text (a record file, or one log line); ``ValueError`` names what is wrong."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{where}: not a JSON labelgate record ({exc})") from None
    if not isinstance(raw, dict) or raw.get(RECORD_KEY) not in _KINDS:
        raise ValueError(f"{where}: not a labelgate record (needs {RECORD_KEY!r} = one of {sorted(_KINDS)})")
    cls = _KINDS[raw[RECORD_KEY]]
    names = list(cls.__dataclass_fields__)
    missing = [name for name in names if name not in raw]
    if missing:
        raise ValueError(f"{where}: {raw[RECORD_KEY]} record lacks {missing}")
    wrong = [name for name in names if not isinstance(raw[name], _TYPES[name])]
    if wrong:
        raise ValueError(f"{where}: {raw[RECORD_KEY]} record has wrongly typed {wrong}")
    return cls(**{name: raw[name] for name in names})


def read_record(path: str | Path) -> Record:
    """Read a record file written by :func:`write_record`."""
    return parse_record(Path(path).read_text(encoding="utf-8"), where=str(path))


def records_in_log(text: str) -> list[Record]:
    """Every record a step printed to its log, in order (lines may carry a prefix such as a timestamp)."""
    marker = '{"' + RECORD_KEY + '"'
    found = []
    for line in text.splitlines():
        start = line.find(marker)
        if start < 0:
            continue
        with contextlib.suppress(ValueError):
            found.append(parse_record(line[start:].strip()))
    return found


def write_record(record: Record, path: str | Path) -> None:
    """Write ``record`` to ``path`` and print it as one JSON line (all a cluster keeps of a failed step)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(record_json(record, indent=2), encoding="utf-8")
    print(record_json(record), flush=True)


def decide(*, gate: str, passed: bool, reason: str, out_path: str) -> bool:
    """Record a gate's decision at ``out_path`` and show it; returns ``passed`` for ``dsl.If``."""
    reason = reason.strip() or ("passed" if passed else "blocked without a reason (treated as blocked)")
    record = GateDecision(gate=gate, passed=bool(passed), reason=reason)
    write_record(record, out_path)
    progress(gate, f"{record.verdict}: {reason}")
    return record.passed


@contextlib.contextmanager
def step_failures(step: str, output_path: str) -> Iterator[None]:
    """Run a step body; on a LabelgateError record a :class:`StepFailure` beside ``output_path`` (one of
    the step's outputs), print one readable line, and exit 1 so the orchestrator marks the step failed and
    nothing downstream of it runs."""
    try:
        yield
    except LabelgateError as exc:
        record = StepFailure(step=str(step), error=type(exc).__name__, message=str(exc))
        write_record(record, Path(output_path).parent / FAILURE_FILE)
        print(f"labelgate: {step} failed: {record.error}: {record.message}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None


def progress(step: str, message: str) -> None:
    """One progress line from inside a step, for people; `labelgate run` shows these while the step runs."""
    print(f"labelgate[{step}]: {message}", flush=True)


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    text: str


def decide_outcome(*, pushed: bool, push_label: str, failure: StepFailure | None, step_failed: bool,
                   gates: Mapping[str, GateDecision], ended: str | None = None) -> Outcome:
    """The one rule for a run's outcome. In order: pushed -> 0; a step rejected its input -> 3; a step
    broke (or the run ``ended`` in a state other than success) -> 1; a gate blocked -> 3; else 1 (the
    pipeline stopped without pushing and without saying why). A crash outranks a blocked gate: a broken
    run must not look like a data problem."""
    blocked = [g for g in gates.values() if not g.passed]
    if pushed:
        return Outcome(EXIT_OK, f"pushed {push_label}")
    if failure is not None and failure.error == ChampionMovedError.__name__:
        return Outcome(EXIT_BLOCKED, f"blocked: the champion moved while this run evaluated against it; "
                                     f"{failure.step} registered the model but did not promote it")
    if failure is not None and failure.blocking:
        return Outcome(EXIT_BLOCKED, f"blocked: {failure.step} rejected the input")
    if failure is not None or step_failed or ended:
        where = f" in {failure.step}" if failure is not None else ""
        return Outcome(EXIT_ERROR, f"error: the run ended {ended}{where}" if ended else f"error: a step failed{where}")
    if blocked:
        return Outcome(EXIT_BLOCKED, f"blocked by {blocked[0].gate}")
    return Outcome(EXIT_ERROR, "error: the pipeline ended without pushing and without a gate decision")


@dataclass
class RunSummary:
    """What `labelgate run` and `labelgate submit --wait` report; `labelgate run` also writes it to
    ``<run>/summary.json``. ``location`` is the run's folder (local) or its page (cluster)."""

    run_id: str
    location: str
    exit_code: int
    outcome: str
    steps: list[dict[str, Any]]
    gates: dict[str, dict[str, Any]] = field(default_factory=dict)
    failure: dict[str, Any] | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    pushed: dict[str, Any] | None = None
    outputs: dict[str, str] = field(default_factory=dict)
    arguments: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    on_cluster: bool = False
    data: dict[str, Any] = field(default_factory=dict)
    flags: dict[str, Any] = field(default_factory=dict)  # the command line's (`labelgate run --resume` reuses them)
    resumed_from: str | None = None  # the run whose unchanged steps this one reused


def step_rows(statuses: Mapping[str, tuple[str, float | None, int]], *, blocked: bool) -> list[dict[str, Any]]:
    """The summary's step table from ``name -> (status, seconds, runs)``: pipeline steps in order, then any
    other task; a step that never ran is ``skipped`` when a gate blocked, else ``not run``."""
    names = [*STEPS, *(name for name in statuses if name not in STEPS)]
    rows = []
    for name in names:
        status, seconds, runs = statuses.get(name, ("not run", None, 0))
        if status == "not run" and blocked:
            status = "skipped"
        rows.append({"name": str(name), "status": status, "seconds": seconds, "runs": runs})
    return rows
