"""validate_data end to end on tiny inputs: the suite, constraints and drift each feed the one decision;
the profile stored with a champion carries the LF coverage and class balance; drift runs on the
champion's bins and only when there is a champion."""

from __future__ import annotations

import pandas as pd
import pytest

from labelgate.validation.constraints import parse_constraints
from labelgate.validation.settings import ValidationSettings
from labelgate.validation.verdict import GateResult, validate_data

from .tiny import SUITE, make_frame, weak_labels

SAME_AUTHOR = parse_constraints("t1&t2&EQ(t1.AUTHOR,t2.AUTHOR)")
ONE_ID = {"name": "one-id", "expectations": [  # every row but one fails, each with its own value
    {"type": "expect_column_values_to_be_in_set", "severity": "critical",
     "kwargs": {"column": "COMMENT_ID", "value_set": ["id0"]}},
]}


def _gate(frame: pd.DataFrame, *, suite: dict = SUITE, constraints=(), reference=None, **settings) -> GateResult:
    votes, names, probs = weak_labels(frame)
    return validate_data(frame=frame, label_matrix=votes, lf_names=names, probs=probs, suite=suite,
                         constraints=list(constraints), settings=ValidationSettings(**settings), reference=reference)


def test_a_first_run_profiles_everything_and_skips_drift() -> None:
    frame = make_frame()
    gate = _gate(frame)
    assert gate.passed and gate.rows == len(frame) and gate.suite_result is not None
    assert gate.reason == "passed: 6 expectations, 0 constraints, 0 drift checks; drift skipped (no champion profile)"
    assert gate.drift_profiles is None
    assert gate.notes == ["drift skipped: there is no champion profile to compare with (first run, or the champion "
                          "was pushed without one)"]
    assert not [f for f in gate.findings if f.source == "drift"]
    assert list(gate.profile["lf_coverage"]) == ["lf_check", "lf_subscribe", "lf_song"]
    assert "class_balance" in gate.profile and list(gate.profile["numeric"]) == ["CONTENT:length"]


@pytest.mark.parametrize("cap", [1, 3])
def test_max_examples_caps_expectation_and_constraint_examples(cap: int) -> None:
    gate = _gate(make_frame(), suite=ONE_ID, constraints=SAME_AUTHOR, max_examples=cap)
    assert not gate.passed
    failed = {f.source: f for f in gate.findings if not f.passed}
    assert set(failed) == {"expectation", "constraint"}
    assert len(failed["expectation"].examples) == cap and len(failed["constraint"].examples) == cap
    assert gate.reason.startswith("blocked by 2 critical check(s): expect_column_values_to_be_in_set(COMMENT_ID)")


def test_drift_runs_on_the_champions_bins_with_every_profiled_signal() -> None:
    reference = _gate(make_frame()).profile
    gate = _gate(make_frame(n=80, seed=3), reference=reference)
    drift = sorted(f.name for f in gate.findings if f.source == "drift")
    assert drift == ["drift: CLASS values", "drift: CONTENT length (chars)", "drift: LF 'lf_check' coverage",
                     "drift: LF 'lf_song' coverage", "drift: LF 'lf_subscribe' coverage",
                     "drift: label model class balance"]
    assert gate.passed and gate.reason == "passed: 6 expectations, 0 constraints, 6 drift checks" and not gate.notes
    champion, aligned = gate.drift_profiles
    assert champion is reference
    edges = reference["numeric"]["CONTENT:length"]["edges"]
    assert aligned["numeric"]["CONTENT:length"]["edges"] == edges
    assert gate.profile["numeric"]["CONTENT:length"]["edges"] != edges  # the stored profile keeps its own bins


@pytest.mark.parametrize("reference", [None, "own"])
def test_a_profiled_column_missing_from_the_data_blocks(reference) -> None:
    frame = make_frame()
    ref = _gate(frame).profile if reference == "own" else None
    gate = _gate(frame, reference=ref, categorical_columns=("CLASS", "GENRE"))
    assert not gate.passed
    (missing,) = [f for f in gate.findings if f.name == "drift: profile of GENRE"]
    assert missing.source == "drift" and missing.passed is False and missing.blocks
    assert gate.metrics()["drift_failed"] == 1 and gate.metrics()["critical_failures"] == 1
    assert gate.reason == ("blocked by 1 critical check(s): drift: profile of GENRE: could not run: column not in "
                           "the data (validation.*_columns in the config)")
