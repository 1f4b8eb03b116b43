"""The data gate: expectations, integrity constraints and drift combined into one decision with reasons."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from labelgate.validation.constraints import DenialConstraint, check_constraints, missing_columns
from labelgate.validation.drift import build_profile, compare_profiles, numeric_series
from labelgate.validation.expectations import run_suite
from labelgate.validation.findings import CRITICAL, Finding
from labelgate.validation.settings import ValidationSettings


@dataclass
class GateResult:
    """The decision, every finding behind it, the profile to store with a new champion, and notes."""

    passed: bool
    reason: str
    findings: list[Finding]
    profile: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    suite_result: Any = None
    rows: int = 0
    # The champion's profile and this run's on the same bins, for the drift picture (None: no champion).
    drift_profiles: tuple[dict[str, Any], dict[str, Any]] | None = None

    def metrics(self) -> dict[str, float]:
        by = {s: [f for f in self.findings if f.source == s] for s in ("expectation", "constraint", "drift")}
        return {
            "passed": float(self.passed),
            "rows": float(self.rows),
            "critical_failures": float(sum(f.blocks for f in self.findings)),
            "warnings": float(sum(not f.passed and not f.blocks for f in self.findings)),
            "expectations": float(len(by["expectation"])),
            "expectations_failed": float(sum(not f.passed for f in by["expectation"])),
            "constraints": float(len(by["constraint"])),
            "constraint_violating_rows": float(sum(f.failing_rows or 0 for f in by["constraint"])),
            "drift_checks": float(len(by["drift"])),
            "drift_failed": float(sum(not f.passed for f in by["drift"])),
        }


def constraint_findings(frame: pd.DataFrame, constraints: list[DenialConstraint],
                        settings: ValidationSettings) -> list[Finding]:
    """One finding per denial constraint: violating pairs, rows and example values."""
    findings = []
    runnable = []
    for dc in constraints:
        missing = missing_columns(frame, dc)
        if missing:
            findings.append(Finding("constraint", f"line {dc.line}: {dc.text}", CRITICAL, False,
                                    f"could not run: column(s) {missing} not in the data"))
        else:
            runnable.append(dc)
    for result in check_constraints(frame, runnable, max_examples=settings.max_examples):
        dc = result.constraint
        ok = result.violations == 0
        if ok:
            detail = "no violations"
        elif dc.tuples == ("t1",):
            detail = f"{_count(len(result.rows), 'violating row')}; {_count(result.cell_count, 'cell')} involved"
        else:
            detail = (f"{_count(result.violations, 'violating row pair')} over {_count(len(result.rows), 'row')}; "
                      f"{_count(result.cell_count, 'cell')} involved")
        severity = dc.severity or settings.constraint_severity
        findings.append(Finding("constraint", f"line {dc.line}: {dc.text}", severity, ok, detail,
                                len(result.rows), tuple(result.examples)))
    return findings


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def decide(findings: list[Finding], notes: list[str]) -> tuple[bool, str]:
    """Blocked when any critical finding failed; the reason names every one of them."""
    blocking = [f for f in findings if f.blocks]
    warnings = [f for f in findings if not f.passed and not f.blocks]
    if blocking:
        reason = f"blocked by {len(blocking)} critical check(s): " + "; ".join(f.line() for f in blocking)
        return False, reason
    counts = {s: sum(f.source == s for f in findings) for s in ("expectation", "constraint", "drift")}
    reason = (f"passed: {counts['expectation']} expectations, {counts['constraint']} constraints, "
              f"{counts['drift']} drift checks")
    if warnings:
        reason += f"; {len(warnings)} warning(s): " + "; ".join(f.name for f in warnings)
    if any("drift skipped" in n for n in notes):
        reason += "; drift skipped (no champion profile)"
    return True, reason


def validate_data(*, frame: pd.DataFrame, label_matrix: np.ndarray | None, lf_names: list[str] | None,
                  probs: pd.DataFrame | None, suite: dict[str, Any], constraints: list[DenialConstraint],
                  settings: ValidationSettings, reference: dict[str, Any] | None) -> GateResult:
    """Run the suite, the constraints and (with a champion ``reference`` profile) the drift checks."""
    notes: list[str] = []
    suite_run = run_suite(frame, suite, max_examples=settings.max_examples)
    findings = list(suite_run.findings)
    findings += constraint_findings(frame, constraints, settings)
    series = numeric_series(frame, settings)
    profile = build_profile(frame=frame, label_matrix=label_matrix, lf_names=lf_names, probs=probs,
                            settings=settings, series=series)
    for column in profile.get("missing_columns", []):
        findings.append(Finding("drift", f"drift: profile of {column}", CRITICAL, False,
                                "could not run: column not in the data (validation.*_columns in the config)"))
    if reference is None:
        notes.append("drift skipped: there is no champion profile to compare with (first run, or the "
                     "champion was pushed without one)")
    else:
        aligned = build_profile(frame=frame, label_matrix=label_matrix, lf_names=lf_names, probs=probs,
                                settings=settings, reference=reference, series=series)
        findings += compare_profiles(reference, aligned, settings)
    passed, reason = decide(findings, notes)
    return GateResult(passed=passed, reason=reason, findings=findings, profile=profile, notes=notes,
                      suite_result=suite_run.result, rows=len(frame),
                      drift_profiles=(reference, aligned) if reference is not None else None)

