"""Run a versioned Great Expectations suite (JSON, GX 1.x format) on a DataFrame in an ephemeral context.

Each expectation carries GX's own ``severity``: ``critical`` blocks the gate, ``warning`` (or ``info``)
is reported only. The GX result becomes one :class:`Finding` per expectation, with a readable line, the
number of failing rows and example values, and GX renders its Data Docs page for the same result
(``labelgate.validation.datadocs``).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from labelgate.errors import ConfigError
from labelgate.validation.findings import CRITICAL, WARNING, Finding, shorten

SEVERITIES = ("critical", "warning", "info")
# Keys of an expectation's kwargs that name its domain rather than what it expects.
_DOMAIN_KEYS = ("column", "column_list", "column_A", "column_B", "batch_id", "result_format", "catch_exceptions",
                "row_condition", "condition_parser")


@dataclass
class SuiteRun:
    """The findings of one suite run plus the raw GX result (kept for Data Docs)."""

    findings: list[Finding]
    result: Any  # great_expectations ExpectationSuiteValidationResult


def read_suite(path: str | Path) -> dict[str, Any]:
    """Read and check a suite file: a JSON object with ``name`` and a list of ``expectations``, each with a
    ``type``, ``kwargs`` and a ``severity`` of critical, warning or info."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"expectation suite not found: {path}") from exc
    except OSError as exc:  # a folder, an empty path, no permission
        raise ConfigError(f"cannot read the expectation suite {str(path)!r}: {exc.strerror}; give the path of a "
                          "suite JSON file (labelgate init writes one)") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"expectation suite {path} is not valid JSON: {exc}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("expectations"), list):
        raise ConfigError(f"expectation suite {path} must be an object with a list 'expectations'")
    if not raw["expectations"]:
        raise ConfigError(f"expectation suite {path} has no expectations: the gate would check nothing")
    for index, exp in enumerate(raw["expectations"]):
        where = f"expectation suite {path}, expectation {index}"
        if not isinstance(exp, dict) or not isinstance(exp.get("type"), str):
            raise ConfigError(f"{where}: needs a 'type' such as 'expect_column_to_exist'")
        if not isinstance(exp.get("kwargs", {}), dict):
            raise ConfigError(f"{where} ({exp['type']}): 'kwargs' must be an object")
        if exp.get("severity", CRITICAL) not in SEVERITIES:
            raise ConfigError(f"{where} ({exp['type']}): severity must be one of {list(SEVERITIES)}, "
                              f"got {exp.get('severity')!r}")
    raw.setdefault("name", Path(path).stem)
    return raw


def build_suite(spec: dict[str, Any]) -> Any:
    """Turn a checked suite dict into a GX ExpectationSuite; an unknown type or bad kwargs is a ConfigError
    (GX itself would only log and drop the expectation)."""
    from great_expectations.core.expectation_suite import ExpectationSuite
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    expectations = []
    for index, exp in enumerate(spec["expectations"]):
        try:
            config = ExpectationConfiguration(
                type=exp["type"], kwargs=dict(exp.get("kwargs", {})), meta=exp.get("meta") or {},
                notes=exp.get("notes"), description=exp.get("description"),
                severity=exp.get("severity", CRITICAL),
            )
            expectations.append(config.to_domain_obj())
        except Exception as exc:  # GX raises many types for an unknown type or invalid kwargs
            raise ConfigError(f"expectation {index} ({exp['type']}) in suite '{spec['name']}' is invalid: "
                              f"{type(exc).__name__}: {exc}") from exc
    return ExpectationSuite(name=str(spec["name"]), expectations=expectations, meta=spec.get("meta") or {})


def ephemeral_context() -> Any:
    """A GX context that lives in memory only: no project folder, no usage statistics, no progress bars."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    config = DataContextConfig(store_backend_defaults=InMemoryStoreBackendDefaults(), analytics_enabled=False,
                               progress_bars=ProgressBarsConfig(globally=False))
    return gx.get_context(mode="ephemeral", project_config=config)


def run_suite(frame: pd.DataFrame, spec: dict[str, Any], max_examples: int = 5) -> SuiteRun:
    """Validate ``frame`` against the suite in a fresh ephemeral context; one finding per expectation."""
    import great_expectations as gx

    context = ephemeral_context()
    suite = context.suites.add(build_suite(spec))
    batch_definition = (context.data_sources.add_pandas("labelgate").add_dataframe_asset("data")
                        .add_batch_definition_whole_dataframe("all rows"))
    # A ValidationDefinition loads (and fingerprints) the batch once; Batch.validate loads it twice.
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name="labelgate", data=batch_definition, suite=suite))
    result = definition.run(batch_parameters={"dataframe": frame},
                            result_format={"result_format": "SUMMARY",
                                           "partial_unexpected_count": max(max_examples, 1)})
    findings = [_finding(r, frame, max_examples) for r in result.results]
    return SuiteRun(findings=findings, result=result)


def _finding(result: Any, frame: pd.DataFrame, max_examples: int) -> Finding:
    config = result.expectation_config
    kwargs = {k: v for k, v in config.kwargs.items() if k != "batch_id"}
    name = config.type + _domain(kwargs) + _condition(kwargs.get("row_condition"))
    severity = CRITICAL if str(getattr(config.severity, "value", config.severity)) == CRITICAL else WARNING
    outcome = result.result or {}
    error = _exception_message(result.exception_info)
    if error is not None:
        missing = [c for c in _columns(kwargs) if c not in frame.columns]
        if missing:
            error = f"column(s) {missing} not in the data (columns: {list(frame.columns)})"
        return Finding("expectation", name, severity, False, f"could not run: {error}")
    expected = ", ".join(f"{k}={_brief(v)}" for k, v in kwargs.items() if k not in _DOMAIN_KEYS)
    if "unexpected_count" in outcome and outcome.get("element_count") is not None:
        bad, total = int(outcome["unexpected_count"] or 0), int(outcome["element_count"])
        detail = f"{bad} of {total} rows ({100.0 * bad / total if total else 0.0:.2f}%) unexpected"
        if expected:
            detail += f"; expected {expected}"
        values = [c["value"] for c in outcome.get("partial_unexpected_counts") or []] or \
            list(outcome.get("partial_unexpected_list") or [])
        examples = tuple(shorten(v) for v in values[:max_examples]) if bad else ()
        return Finding("expectation", name, severity, bool(result.success), detail, bad, examples)
    detail = f"observed {_brief(outcome.get('observed_value'))}"
    if expected:
        detail += f"; expected {expected}"
    return Finding("expectation", name, severity, bool(result.success), detail)


def _domain(kwargs: dict[str, Any]) -> str:
    for key in ("column", "column_list"):
        if key in kwargs:
            value = kwargs[key]
            return f"({', '.join(value) if isinstance(value, list) else value})"
    if "column_A" in kwargs:
        return f"({kwargs['column_A']}, {kwargs.get('column_B')})"
    return ""


def _condition(condition: Any) -> str:
    """GX keeps a row condition as text or as a dict wrapping the text; show the text."""
    if not condition:
        return ""
    if isinstance(condition, dict):
        condition = condition.get("pass_through_filter") or next(iter(condition.values()), "")
    return f" where {condition}"


def _columns(kwargs: dict[str, Any]) -> list[str]:
    names: list[str] = []
    for key in ("column", "column_A", "column_B"):
        if isinstance(kwargs.get(key), str):
            names.append(kwargs[key])
    if isinstance(kwargs.get("column_list"), list):
        names.extend(str(c) for c in kwargs["column_list"])
    return names


def _exception_message(info: Any) -> str | None:
    """GX stores errors either flat or keyed by metric; return the first message, if any."""
    if not isinstance(info, dict):
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message") or "unknown error")
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return str(value.get("exception_message") or "unknown error")
    return None


def _brief(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def clip_results(result: Any) -> Any:
    """Clip each expectation's result in place (a 10 MB cell would otherwise land in the Data Docs page whole)."""
    for item in result.results:
        if item.result:
            item.result = _clip(item.result)
    return result


def _clip(value: Any, limit: int = 200) -> Any:
    """The same structure with every string longer than ``limit`` characters cut, for display."""
    if isinstance(value, str):
        return value if len(value) <= limit else value[:limit] + f"... ({len(value)} characters)"
    if isinstance(value, dict):
        return {k: _clip(v, limit) for k, v in value.items()}
    if isinstance(value, list):
        return [_clip(v, limit) for v in value]
    return value
