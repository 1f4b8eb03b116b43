"""Fail fast: check the whole run's inputs before any step runs.

``labelgate run`` calls :func:`preflight` before it starts the pipeline, and the ingest step calls it first
thing on a cluster. It checks the config (every section), the LF module (it imports, defines at least one
LF, names are unique, and the LFs run on a sample of the data), the expectation suite and the constraints
against the data's columns, and the data itself (columns, labels against ``data.classes``, split roles).
Every problem found is reported at once, each naming the file, the key or line, what was found and the fix.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from labelgate.config import load_config
from labelgate.errors import ConfigError, DataError, LabelgateError
from labelgate.evaluation.settings import EvaluationSettings
from labelgate.ingest.dataset import IngestResult, ingest
from labelgate.ingest.settings import DataSettings, SplitSettings
from labelgate.labeling.settings import LabelingSettings
from labelgate.monitoring.settings import MonitoringSettings
from labelgate.repair.settings import repair_settings
from labelgate.training.settings import TrainingSettings
from labelgate.training.step import check_feature_columns
from labelgate.validation.settings import ValidationSettings

T = TypeVar("T")
# Set by `labelgate run` while its local run goes, once its preflight passed, so that the ingest step does
# not check the same inputs again. Its value names what was checked (:func:`checked_token` of the data and
# setup digests), so an ingest step of any other run, or of a run started without digests, checks itself;
# a cluster's or container's ingest step never has it and checks first thing.
CHECKED_ENV = "LABELGATE_PREFLIGHT_CHECKED"
SAMPLE_ROWS = 200


@dataclass
class PreflightReport:
    """What the checks found: the problems (empty when the run may start) and, when the data was read,
    its roles and the LF names."""

    errors: list[str] = field(default_factory=list)
    kinds: set[str] = field(default_factory=set)
    ingested: IngestResult | None = None
    lf_names: list[str] = field(default_factory=list)

    def attempt(self, check: Callable[[], T]) -> T | None:
        try:
            return check()
        except LabelgateError as exc:
            self.errors.append(str(exc))
            self.kinds.add(type(exc).__name__)
            return None

    def fail(self, message: str, kind: type[LabelgateError] = ConfigError) -> None:
        self.errors.append(message)
        self.kinds.add(kind.__name__)

    def raise_if_failed(self) -> None:
        """One exception listing every problem: a DataError when all are data problems (the input is
        rejected), else a ConfigError."""
        if not self.errors:
            return
        kind = DataError if self.kinds == {DataError.__name__} else ConfigError
        lines = "\n".join(f"  - {error}" for error in self.errors)
        raise kind(f"preflight: {len(self.errors)} problem(s) found before any step ran:\n{lines}")


def preflight(*, data_uri: str, lf_module: str, config_path: str, suite_path: str, constraints_path: str,
              ingested: IngestResult | None = None) -> PreflightReport:
    """Check every input of a run; ``ingested`` (the ingest step's own result) saves reading the data twice."""
    report = PreflightReport()
    config = report.attempt(lambda: load_config(config_path))
    settings: dict[str, Any] = {}
    if config is not None:
        for model in (DataSettings, SplitSettings, LabelingSettings, ValidationSettings, TrainingSettings,
                      EvaluationSettings, MonitoringSettings):
            settings[model.section] = report.attempt(lambda m=model: m.from_section(config[m.section]))
    data: DataSettings | None = settings.get("data")
    repair = report.attempt(lambda: repair_settings(config_path)) if config is not None else None
    training = settings.get("training")
    if data and training:
        report.attempt(lambda: check_feature_columns(training, data))
    classes = list(data.classes) if data else []
    if data and settings.get("evaluation"):
        report.attempt(lambda: settings["evaluation"].positive_index(classes, config_path))
    labeling = settings.get("labeling")
    if data and labeling and labeling.class_balance is not None and len(labeling.class_balance) != len(classes):
        report.fail(f"config {config_path}: labeling.class_balance has {len(labeling.class_balance)} value(s) but "
                    f"data.classes has {len(classes)} {classes}; give one share per class or set it to null")
    lfs = report.attempt(lambda: _lfs(lf_module))
    suite = report.attempt(lambda: _suite(suite_path))
    constraints = report.attempt(lambda: _constraints(constraints_path))
    if data and settings.get("split"):
        report.ingested = ingested or report.attempt(lambda: ingest(data_uri, data, settings["split"]))
    if report.ingested is None:
        return report
    frame = report.ingested.frame
    columns = [str(c) for c in frame.columns]
    if suite is not None:
        for index, column in _suite_columns(suite):
            if column not in columns:
                report.fail(f"expectation suite {suite_path}, expectation {index}: column '{column}' is not in the "
                            f"data; the columns are {columns}. Fix the name or remove the expectation.")
    if constraints is not None:
        for dc in constraints:
            missing = sorted({a for t in dc.tuples for a in dc.attributes(t)} - set(columns))
            if missing:
                report.fail(f"constraint file {constraints_path}, line {dc.line}: column(s) {missing} are not in the "
                            f"data; the columns are {columns}. Fix the names or delete the line.")
    validation = settings.get("validation")
    if validation is not None:
        for key in ("length_columns", "numeric_columns", "categorical_columns"):
            missing = [c for c in getattr(validation, key) if c not in columns]
            if missing:
                report.fail(f"config {config_path}: validation.{key} names {missing}, not columns of the data "
                            f"{columns}; list your own columns (e.g. length_columns: [{data.text_column}])")
    named = {"training.feature_columns": training.feature_columns if training else ()}
    if repair is not None:
        named.update({f"repair.{key}": tuple(getattr(repair, key)) for key in ("columns", "exclude_columns")})
        named["repair.dictionaries"] = tuple(repair.dictionaries)
    for key, names in named.items():
        missing = [c for c in names if c not in columns]
        if missing:
            report.fail(f"config {config_path}: {key} names {missing}, not columns of the data {columns}")
    if lfs is not None:
        report.lf_names = [lf.name for lf in lfs]
        report.attempt(lambda: _apply_sample(lfs, frame, classes, lf_module))
    return report


def _lfs(lf_module: str) -> list[Any]:
    from labelgate.labeling.loader import load_lfs

    return load_lfs(lf_module)


def _apply_sample(lfs: list[Any], frame: Any, classes: list[str], lf_module: str) -> None:
    """Run the LFs on a sample of the data: a wrong column name or a vote outside the classes fails here."""
    from labelgate.errors import LabelingError
    from labelgate.labeling.applier import LFApplier

    sample = frame.head(SAMPLE_ROWS)
    try:
        LFApplier(lfs, cardinality=len(classes), classes=classes).apply(sample)
    except LabelingError as exc:
        raise LabelingError(f"{lf_module}: {exc} (on a sample of the first {len(sample)} rows; the data's "
                            f"columns are {[str(c) for c in frame.columns]})") from exc


def _suite(path: str) -> dict[str, Any]:
    from labelgate.validation.expectations import build_suite, read_suite

    spec = read_suite(path)
    build_suite(spec)
    return spec


def _suite_columns(spec: dict[str, Any]) -> list[tuple[int, str]]:
    found = []
    for index, exp in enumerate(spec["expectations"]):
        kwargs = exp.get("kwargs", {})
        for key in ("column", "column_A", "column_B"):
            if isinstance(kwargs.get(key), str):
                found.append((index, kwargs[key]))
        if isinstance(kwargs.get("column_list"), list):
            found.extend((index, str(c)) for c in kwargs["column_list"])
    return found


def _constraints(path: str) -> list[Any]:
    from labelgate.validation.constraints import load_constraints

    return load_constraints(path)


def inputs_fingerprint(report: PreflightReport, arguments: dict[str, Any]) -> str | None:
    """One hash over everything that decides a run's model: the data (ingest's fingerprint), the LF module,
    config, suite and constraint files, the run's parameters (not where it writes), and labelgate's code.
    Equal fingerprints mean a re-run would train the same model. None when the data was not read."""
    import hashlib
    import json

    if report.ingested is None:
        return None
    digest = hashlib.sha256(report.ingested.fingerprint.encode())
    for key in ("lf_module", "config_path", "suite_path", "constraints_path"):
        digest.update(_file_bytes(str(arguments.get(key, "")), module=key == "lf_module"))
    ignored = {"data_uri", "lf_module", "config_path", "suite_path", "constraints_path", "registry_uri"}
    digest.update(json.dumps({k: v for k, v in sorted(arguments.items()) if k not in ignored},
                             default=str).encode())
    _update_with_code(digest)
    return digest.hexdigest()


def checked_token(data_digest: str, setup_digest: str) -> str:
    """What CHECKED_ENV holds while a run whose preflight passed goes: empty digests check nothing."""
    return f"{data_digest}:{setup_digest}" if data_digest and setup_digest else ""


@contextlib.contextmanager
def preflight_passed(digests: dict[str, str]) -> Iterator[None]:
    """For the ``with`` block (one local run), tell its ingest step that these inputs passed preflight."""
    before = os.environ.get(CHECKED_ENV)
    token = checked_token(digests.get("data_digest", ""), digests.get("setup_digest", ""))
    if token:
        os.environ[CHECKED_ENV] = token
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(CHECKED_ENV, None)
        else:
            os.environ[CHECKED_ENV] = before


def already_checked(data_digest: str, setup_digest: str) -> bool:
    """True inside :func:`preflight_passed` for exactly these digests (the ingest step's test)."""
    token = checked_token(data_digest, setup_digest)
    return bool(token) and os.environ.get(CHECKED_ENV) == token


def content_digests(report: PreflightReport, arguments: dict[str, Any], *, champion: str) -> dict[str, str]:
    """The content digests a run passes to its steps (``labelgate.run.DIGESTS``): what the data, the LF module,
    the suite and constraints, the config and labelgate's code hold, and the registry's ``champion`` (its
    version, or "none"), so that a task cache keyed on arguments keys on content, not on paths. Data that was
    not read gets a digest of its own that matches no other run."""
    import hashlib
    import secrets

    def sha(*parts: bytes) -> str:
        digest = hashlib.sha256()
        for part in parts:
            digest.update(hashlib.sha256(part).digest())
        return digest.hexdigest()

    setup = hashlib.sha256(_file_bytes(str(arguments.get("config_path", ""))))
    _update_with_code(setup)
    data = report.ingested.fingerprint if report.ingested is not None else "unread-" + secrets.token_hex(8)
    return {
        "data_digest": sha(data.encode()),
        "lfs_digest": sha(_file_bytes(str(arguments.get("lf_module", "")), module=True)),
        "suite_digest": sha(_file_bytes(str(arguments.get("suite_path", ""))),
                            _file_bytes(str(arguments.get("constraints_path", "")))),
        "setup_digest": setup.hexdigest(),
        "champion_digest": sha(champion.encode()),
    }


def _file_bytes(value: str, *, module: bool = False) -> bytes:
    """A file's bytes; for a dotted LF module, its source file's; empty when there is none."""
    import importlib.util
    from pathlib import Path

    path = Path(value)
    if value and path.is_file():
        return path.read_bytes()
    spec = importlib.util.find_spec(value) if module and value and not value.endswith(".py") else None
    if spec and spec.origin and Path(spec.origin).is_file():
        return Path(spec.origin).read_bytes()
    return b""


def _update_with_code(digest: Any) -> None:
    """Feed labelgate's code (its packages' .py and .html files, by relative name) into ``digest``."""
    import importlib.util
    from pathlib import Path

    for package in ("labelgate", "labelgate.components", "labelgate.pipelines"):
        spec = importlib.util.find_spec(package)
        for folder in (spec.submodule_search_locations or []) if spec else []:
            for path in sorted(Path(folder).rglob("*")):
                if path.suffix in (".py", ".html") and "__pycache__" not in path.parts:
                    digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
