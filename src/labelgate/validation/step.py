"""The validate step as the pipeline runs it: artifact paths in, a gate decision and reports out.

It fails closed: whatever goes wrong inside validation (bad input, a broken suite, a bug) becomes a
blocked gate whose reason starts with ``validation crashed:``, so a crash can never let data through and
the run summary still says why.
"""

from __future__ import annotations

import json
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from labelgate.config import load_config
from labelgate.contract import PROFILE_FILE, aligned_probs, read_table
from labelgate.registry import champion_file
from labelgate.run import Step, progress
from labelgate.validation.constraints import load_constraints
from labelgate.validation.datadocs import data_docs_html
from labelgate.validation.drift import PROFILE_VERSION
from labelgate.validation.expectations import clip_results, read_suite
from labelgate.validation.findings import Finding
from labelgate.validation.plots import drift_png
from labelgate.validation.report import render_html, render_markdown
from labelgate.validation.settings import ValidationSettings
from labelgate.validation.verdict import GateResult, validate_data


def champion_profile(registry_uri: str, model_name: str) -> tuple[dict[str, Any] | None, str | None]:
    """The champion's stored profile, or ``None`` with a note saying why drift is skipped."""
    path = champion_file(registry_uri, model_name, PROFILE_FILE)
    if path is None:
        return None, None
    try:
        profile = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return None, f"drift skipped: the champion's {PROFILE_FILE} is unreadable ({exc})"
    if not isinstance(profile, dict) or "numeric" not in profile:
        return None, f"drift skipped: the champion's {PROFILE_FILE} is not a labelgate profile"
    if profile.get("version") != PROFILE_VERSION:
        return None, (f"drift skipped: the champion's {PROFILE_FILE} has format version {profile.get('version')}, "
                      f"this labelgate writes {PROFILE_VERSION}")
    return profile, None


def _load_inputs(data_path: str, label_matrix_path: str | None, probs_path: str | None,
                 ) -> tuple[pd.DataFrame, np.ndarray | None, pd.DataFrame | None]:
    frame = read_table(data_path, "data")
    matrix = np.load(label_matrix_path, allow_pickle=False) if label_matrix_path else None
    probs = aligned_probs(read_table(probs_path, "probs"), len(frame)) if probs_path else None
    return frame, matrix, probs


def run_validate(*, data_path: str, label_matrix_path: str | None, lf_names: list[str] | None,
                 probs_path: str | None, suite_path: str, constraints_path: str, config_path: str,
                 registry_uri: str, model_name: str, report_path: str, report_html_path: str,
                 profile_path: str) -> tuple[bool, str, dict[str, float]]:
    """Validate the ingested data and write the Markdown report, the HTML report (Data Docs) and the
    profile. Returns ``(passed, reason, metrics)``; never raises for a problem inside validation."""
    started = time.perf_counter()
    try:
        result = _validate(data_path=data_path, label_matrix_path=label_matrix_path, lf_names=lf_names,
                           probs_path=probs_path, suite_path=suite_path, constraints_path=constraints_path,
                           config_path=config_path, registry_uri=registry_uri, model_name=model_name)
        docs, picture = None, None
        try:
            docs = (data_docs_html(clip_results(result.suite_result), passed=result.passed)
                    if result.suite_result is not None else None)
            picture = drift_png(*result.drift_profiles) if result.drift_profiles else None
        except Exception as exc:  # a rendering bug must not hide the decision
            result.notes.append(f"a report could not be rendered: {type(exc).__name__}: {exc}")
    except Exception as exc:  # fail closed: every failure blocks, with a readable reason
        message = f"{type(exc).__name__}: {exc}"
        progress(Step.VALIDATE, f"validation crashed: {message}")
        detail = traceback.format_exc(limit=3)
        result = GateResult(passed=False, reason=f"validation crashed: {message}",
                            findings=[Finding("crash", "validation step", "critical", False, message)],
                            profile={"error": message}, notes=[f"traceback (last frames): {detail}"])
        docs, picture = None, None
    metrics = result.metrics()
    metrics["seconds"] = round(time.perf_counter() - started, 3)
    _write(report_path, render_markdown(passed=result.passed, reason=result.reason, findings=result.findings,
                                        notes=result.notes, rows=result.rows or None))
    _write(report_html_path, render_html(passed=result.passed, reason=result.reason, findings=result.findings,
                                         notes=result.notes, data_docs=docs, drift_png=picture))
    _write(profile_path, json.dumps(result.profile, indent=1))
    progress(Step.VALIDATE, ("PASSED " if result.passed else "BLOCKED ") + result.reason)
    return result.passed, result.reason, metrics


def _validate(*, data_path: str, label_matrix_path: str | None, lf_names: list[str] | None,
              probs_path: str | None, suite_path: str, constraints_path: str, config_path: str,
              registry_uri: str, model_name: str) -> GateResult:
    settings = ValidationSettings.from_section(load_config(config_path)["validation"])
    suite = read_suite(suite_path)
    constraints = load_constraints(constraints_path) if constraints_path else []
    frame, matrix, probs = _load_inputs(data_path, label_matrix_path, probs_path)
    progress(Step.VALIDATE, f"{len(frame)} rows; {len(suite['expectations'])} expectations, "
                         f"{len(constraints)} constraints")
    reference, note = champion_profile(registry_uri, model_name)
    result = validate_data(frame=frame, label_matrix=matrix, lf_names=lf_names, probs=probs, suite=suite,
                           constraints=constraints, settings=settings, reference=reference)
    if note:
        result.notes = [n for n in result.notes if not n.startswith("drift skipped")] + [note]
    return result


def _write(path: str, text: str) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(text, encoding="utf-8")
