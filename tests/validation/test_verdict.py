"""The data gate's decision from its findings: constraint findings (run, clean, not runnable), the rule
(any failed critical check blocks; warnings only report) and the gate's metrics."""

from __future__ import annotations

import pandas as pd
import pytest

from labelgate.validation.constraints import parse_constraints
from labelgate.validation.findings import CRITICAL, WARNING, Finding
from labelgate.validation.settings import ValidationSettings
from labelgate.validation.verdict import GateResult, constraint_findings, decide

FRAME = pd.DataFrame({
    "id": ["a", "a", "b", "c", "c", "c"],
    "text": ["x", "y", "z", "u", "v", "w"],
    "split": ["train", "train", "valid", "test", "test", "train"],
    "dev": [True, True, False, False, False, False],
})
CONSTRAINTS = parse_constraints("\n".join([
    "t1&t2&EQ(t1.id,t2.id)&IQ(t1.text,t2.text)",      # 1: two ids shared by different texts (ordered pairs: 2 + 6)
    "t1&EQ(t1.dev,\"True\")&IQ(t1.split,\"train\")",  # 2: clean (both dev rows are train rows)
    "t1&EQ(t1.split,\"train\")",                     # 3: every train row violates (single tuple)
    "# severity: warning",
    "t1&t2&EQ(t1.author,t2.author)",                # 5: a column the data lacks
    "t1&EQ(t1.split,\"valid\")",                     # 6: one row: singular nouns
]))


def _findings(**settings) -> dict[str, Finding]:
    found = constraint_findings(FRAME, CONSTRAINTS, ValidationSettings(**settings))
    return {finding.name.split(":")[0]: finding for finding in found}


def test_each_constraint_becomes_one_finding_with_what_a_person_needs():
    found = _findings(max_examples=1)
    assert list(found) == ["line 5", "line 1", "line 2", "line 3", "line 6"]  # not runnable ones first
    assert found["line 1"] == Finding(
        "constraint", "line 1: t1&t2&EQ(t1.id,t2.id)&IQ(t1.text,t2.text)", CRITICAL, False,
        "8 violating row pairs over 5 rows; 10 cells involved", 5, found["line 1"].examples)
    assert len(found["line 1"].examples) == 1
    assert found["line 2"] == Finding("constraint", 'line 2: t1&EQ(t1.dev,"True")&IQ(t1.split,"train")', CRITICAL,
                                      True, "no violations", 0, ())
    assert found["line 3"].detail == "3 violating rows; 3 cells involved"
    assert (found["line 3"].passed, found["line 3"].failing_rows) == (False, 3)
    assert found["line 6"].detail == "1 violating row; 1 cell involved"


def test_a_constraint_on_a_missing_column_is_a_critical_failure_even_under_a_warning_directive():
    missing = _findings()["line 5"]
    assert missing == Finding("constraint", "line 5: t1&t2&EQ(t1.author,t2.author)", CRITICAL, False,
                              "could not run: column(s) ['author'] not in the data")
    assert missing.blocks


def test_the_warning_directive_and_the_default_severity_apply_to_runnable_constraints():
    assert _findings()["line 1"].severity == CRITICAL
    relaxed = _findings(constraint_severity="warning")
    assert relaxed["line 1"].severity == WARNING and not relaxed["line 1"].blocks
    assert relaxed["line 5"].severity == CRITICAL  # not runnable: never only a warning


def test_examples_are_capped_by_max_examples():
    assert len(_findings(max_examples=5)["line 1"].examples) == 2  # one example per violating group
    assert _findings(max_examples=0)["line 1"].examples == ()


def _finding(source: str, passed: bool, severity: str = CRITICAL, name: str | None = None) -> Finding:
    return Finding(source, name or f"{source} check", severity, passed, "detail")


def test_only_a_failed_critical_check_blocks_and_the_reason_names_each():
    findings = [_finding("expectation", False, name="e1"), _finding("constraint", True),
                _finding("drift", False, name="d1"), _finding("drift", False, WARNING, name="w1")]
    passed, reason = decide(findings, [])
    assert passed is False
    assert reason == "blocked by 2 critical check(s): e1: detail; d1: detail"


@pytest.mark.parametrize(("notes", "suffix"), [
    ([], ""), (["drift skipped: no champion"], "; drift skipped (no champion profile)"), (["other note"], ""),
])
def test_a_pass_counts_each_kind_and_lists_warnings(notes, suffix):
    findings = [_finding("expectation", True), _finding("expectation", True), _finding("constraint", True),
                _finding("drift", False, WARNING, name="w1"), _finding("drift", False, WARNING, name="w2")]
    assert decide(findings, notes) == (
        True, "passed: 2 expectations, 1 constraints, 2 drift checks; 2 warning(s): w1; w2" + suffix)
    assert decide([], notes) == (True, "passed: 0 expectations, 0 constraints, 0 drift checks" + suffix)


def test_gate_metrics_count_each_kind_of_finding():
    findings = [
        _finding("expectation", True), _finding("expectation", False),
        _finding("expectation", False, WARNING),
        Finding("constraint", "c1", CRITICAL, False, "d", 7), Finding("constraint", "c2", CRITICAL, True, "d", 0),
        Finding("constraint", "c3", CRITICAL, False, "d", None),
        _finding("drift", True), _finding("drift", False, WARNING), _finding("drift", True),
    ]
    result = GateResult(passed=False, reason="r", findings=findings, profile={}, rows=120)
    assert result.metrics() == {
        "passed": 0.0, "rows": 120.0, "critical_failures": 3.0, "warnings": 2.0, "expectations": 3.0,
        "expectations_failed": 2.0, "constraints": 3.0, "constraint_violating_rows": 7.0, "drift_checks": 3.0,
        "drift_failed": 1.0,
    }
    assert GateResult(passed=True, reason="r", findings=[], profile={}).metrics()["passed"] == 1.0
