"""The run model: records steps write and the orchestrators read, and the one outcome rule."""

import json

import pytest

from labelgate.errors import ConfigError, DataError, LabelingError, ModelError, RegistryError, ServingError
from labelgate.run import (
    EXIT_BLOCKED,
    EXIT_ERROR,
    EXIT_OK,
    FAILURE_FILE,
    STEPS,
    GateDecision,
    Step,
    StepFailure,
    decide,
    decide_outcome,
    parse_record,
    progress,
    read_record,
    record_json,
    records_in_log,
    step_failures,
    step_rows,
    task_name,
)


def test_decision_is_recorded_printed_and_returned(tmp_path, capsys):
    path = tmp_path / "gate" / "decision"
    assert decide(gate="data-gate", passed=False, reason="2 critical expectations failed", out_path=str(path)) is False
    assert read_record(path) == GateDecision("data-gate", False, "2 critical expectations failed")
    out = capsys.readouterr().out
    assert "labelgate[data-gate]: BLOCKED: 2 critical expectations failed" in out
    # The same record goes to the log as one JSON line (all a cluster keeps of a step).
    assert records_in_log(out) == [GateDecision("data-gate", False, "2 critical expectations failed")]


def test_blank_reason_is_filled_in(tmp_path):
    path = tmp_path / "decision"
    decide(gate="model-gate", passed=False, reason="  ", out_path=str(path))
    assert "without a reason" in json.loads(path.read_text())["reason"]


@pytest.mark.parametrize("text", [
    json.dumps({"gate": "x"}),
    json.dumps({"labelgate_record": "gate", "gate": "x", "passed": True}),
    json.dumps({"labelgate_record": "gate", "gate": "x", "passed": "yes", "reason": "r"}),
    json.dumps({"labelgate_record": "verdict", "gate": "x"}),
    "not json",
])
def test_incomplete_or_foreign_records_are_rejected(text):
    with pytest.raises(ValueError, match="record"):
        parse_record(text)


def test_records_in_log_survive_prefixes_and_noise():
    failure = StepFailure("ingest", "DataError", "raw.csv: missing column(s) ['CONTENT']")
    log = "\n".join(["starting", "2026-12-01T10:00:00Z " + record_json(failure), '{"labelgate_record": "gate"',
                     "labelgate: ingest failed: DataError: something else"])
    assert records_in_log(log) == [failure]


@pytest.mark.parametrize(("error", "code"), [
    (DataError, EXIT_BLOCKED), (ModelError, EXIT_BLOCKED),
    (ConfigError, EXIT_ERROR), (LabelingError, EXIT_ERROR), (RegistryError, EXIT_ERROR), (ServingError, EXIT_ERROR),
])
def test_step_failure_records_each_error_kind_with_its_exit_code(tmp_path, capsys, error, code):
    out = tmp_path / "step" / "data"
    with pytest.raises(SystemExit) as stop, step_failures("train", str(out)):
        raise error("bad thing in column X")
    assert stop.value.code == 1
    record = read_record(tmp_path / "step" / FAILURE_FILE)
    assert record == StepFailure("train", error.__name__, "bad thing in column X")
    assert records_in_log(capsys.readouterr().out) == [record]
    outcome = decide_outcome(pushed=False, push_label="m", failure=record, step_failed=True, gates={})
    assert outcome.exit_code == code


def test_a_bug_is_not_recorded_as_a_failure(tmp_path):
    with pytest.raises(RuntimeError), step_failures("train", str(tmp_path / "x")):
        raise RuntimeError("bug")
    assert not (tmp_path / FAILURE_FILE).exists()


BLOCKED = {"data-gate": GateDecision("data-gate", False, "2 expectations failed")}
PASSED = {"data-gate": GateDecision("data-gate", True, "ok")}


@pytest.mark.parametrize(("kwargs", "code", "text"), [
    ({"pushed": True, "gates": PASSED}, EXIT_OK, "pushed m"),
    ({"gates": BLOCKED}, EXIT_BLOCKED, "blocked by data-gate"),
    ({"gates": PASSED}, EXIT_ERROR, "without a gate decision"),
    ({"failure": StepFailure("ingest", "DataError", "x"), "step_failed": True}, EXIT_BLOCKED, "ingest rejected"),
    # A crash outranks a blocked gate in the same run: a broken run must not pass for a data problem.
    ({"step_failed": True, "gates": BLOCKED}, EXIT_ERROR, "a step failed"),
    ({"failure": StepFailure("train", "ConfigError", "x"), "step_failed": True, "gates": BLOCKED}, EXIT_ERROR, "in train"),
    ({"ended": "FAILED", "gates": BLOCKED}, EXIT_ERROR, "ended FAILED"),
    # A blocking failure outranks a run state that is not success (a failed step fails the run).
    ({"failure": StepFailure("ingest", "ModelError", "x"), "ended": "FAILED"}, EXIT_BLOCKED, "rejected"),
    # A push evaluated against a champion that has since moved: its own outcome, blocked, not broken.
    ({"failure": StepFailure("push", "ChampionMovedError", "x"), "step_failed": True}, EXIT_BLOCKED,
     "the champion moved while this run evaluated against it; push registered the model but did not promote"),
])
def test_outcome_rule(kwargs, code, text):
    arguments = {"pushed": False, "push_label": "m", "failure": None, "step_failed": False, "gates": {}, **kwargs}
    outcome = decide_outcome(**arguments)
    assert outcome.exit_code == code
    assert text in outcome.text


@pytest.mark.parametrize(("kwargs", "text"), [
    ({"step_failed": True}, "error: a step failed"),
    ({"failure": StepFailure("train", "ConfigError", "x"), "step_failed": True}, "error: a step failed in train"),
    ({"ended": "CANCELED"}, "error: the run ended CANCELED"),
    ({}, "error: the pipeline ended without pushing and without a gate decision"),
    ({"gates": {**PASSED, "model-gate": GateDecision("model-gate", False, "f1 low")}}, "blocked by model-gate"),
])
def test_outcome_text_says_exactly_what_happened(kwargs, text):
    arguments = {"pushed": False, "push_label": "m", "failure": None, "step_failed": False, "gates": {}, **kwargs}
    assert decide_outcome(**arguments).text == text


def test_a_step_enum_is_stored_as_its_plain_name(tmp_path):
    """Records compare, print and serialise by step name whether a Step or a string was passed."""
    gate = GateDecision(Step.DATA_GATE, True, "ok")
    failure = StepFailure(Step.TRAIN, "DataError", "x")
    assert type(gate.gate) is str and gate.gate == "data-gate"
    assert type(failure.step) is str and failure.step == "train"
    assert decide(gate=Step.MODEL_GATE, passed=True, reason="ok", out_path=str(tmp_path / "d"))
    assert read_record(tmp_path / "d").gate == "model-gate"


def test_passed_is_stored_as_a_boolean_and_a_blank_reason_of_a_pass_says_passed(tmp_path):
    assert decide(gate="data-gate", passed=1, reason=" ", out_path=str(tmp_path / "d")) is True
    assert read_record(tmp_path / "d") == GateDecision("data-gate", True, "passed")
    assert decide(gate="data-gate", passed=0, reason="", out_path=str(tmp_path / "e")) is False
    assert read_record(tmp_path / "e").reason == "blocked without a reason (treated as blocked)"


def test_record_files_are_indented_and_log_lines_are_one_line(tmp_path, capsys):
    """The file is for people (indented), the log line for machines (one line); a record is written into
    a folder that does not exist yet (a step's output folder)."""
    path = tmp_path / "not" / "yet" / "decision"
    decide(gate="data-gate", passed=True, reason="ok", out_path=str(path))
    assert path.read_text().splitlines()[1] == '  "labelgate_record": "gate",'
    lines = [line for line in capsys.readouterr().out.splitlines() if "labelgate_record" in line]
    assert lines == [record_json(GateDecision("data-gate", True, "ok"))]
    assert "\n" not in record_json(GateDecision("data-gate", True, "ok"))
    assert record_json(GateDecision("g", True, "r"), indent=4).splitlines()[1].startswith("    \"")


def test_errors_name_where_the_record_came_from(tmp_path):
    with pytest.raises(ValueError, match=r"^record: not a JSON labelgate record"):
        parse_record("{")
    bad = tmp_path / "gate" / "decision"
    bad.parent.mkdir()
    bad.write_text("{}")
    with pytest.raises(ValueError, match=rf"^{bad}: not a labelgate record"):
        read_record(bad)


def test_a_record_whose_text_quotes_the_marker_is_read_whole():
    gate = GateDecision("data-gate", False, 'a column held {"labelgate_record": "gate"}')
    assert records_in_log("ts " + record_json(gate)) == [gate]


def test_step_rows_list_pipeline_steps_in_order_then_other_tasks():
    statuses = {"train": ("ok", 2.5, 1), "apply-lfs": ("ok", 1.0, 4), "for-loop-2": ("ok", 0.1, 1)}
    rows = step_rows(statuses, blocked=False)
    assert [row["name"] for row in rows] == [*STEPS, "for-loop-2"]
    by_name = {row["name"]: row for row in rows}
    assert by_name["train"] == {"name": "train", "status": "ok", "seconds": 2.5, "runs": 1}
    assert by_name["apply-lfs"]["runs"] == 4
    assert by_name["push"] == {"name": "push", "status": "not run", "seconds": None, "runs": 0}
    assert {row["status"] for row in step_rows({}, blocked=True)} == {"skipped"}


def test_task_names_and_progress_lines():
    assert task_name("weak_label") == "weak-label"
    assert task_name("data_gate_check") == "data-gate-check"


def test_progress_is_one_prefixed_line(capsys):
    progress("train", "epoch 3 of 80")
    assert capsys.readouterr().out == "labelgate[train]: epoch 3 of 80\n"


def test_summary_shows_each_role_left_out_rows_and_the_run_s_model_name():
    from labelgate.run import RunSummary
    from labelgate.summary import format_summary

    summary = RunSummary(
        run_id="r", location="/tmp/r", exit_code=0, outcome="pushed", steps=[],
        pushed={"model_name": "tickets", "version": "1"}, arguments={"model_name": "tickets"},
        data={"roles": {"train": {"rows": 40, "origin": "file train.csv"},
                        "test": {"rows": 17, "origin": "file test.csv"}},
              "dropped": [{"rows": 20, "files": "hold.csv", "reason": "holdout rows beyond 30"}],
              "warnings": ["no labeled dev rows: add dev.csv"]})
    text = format_summary(summary)
    assert "  test        17 rows  from file test.csv" in text
    assert "left out 20 rows of hold.csv: holdout rows beyond 30" in text
    assert "warning: no labeled dev rows" in text
    assert "serve it with: make serve MODEL_NAME=tickets" in text


def test_a_blocked_model_gate_says_what_to_try():
    from labelgate.run import RunSummary
    from labelgate.summary import format_summary

    summary = RunSummary(run_id="r", location="/tmp/r", exit_code=3, outcome="blocked by model-gate", steps=[],
                         gates={"model-gate": {"gate": "model-gate", "passed": False,
                                               "reason": "not blessed: test F1 0.72 is below the minimum 0.85"}})
    text = format_summary(summary)
    assert "what to try: improve the LFs first (labelgate lfs" in text and "labeling.class_balance" in text


def test_the_model_gate_hints_fit_the_run_s_dev_rows():
    """Without dev rows: give a dev file (not dev_weight, which has nothing to weigh); with them: dev_weight."""
    from labelgate.run import RunSummary
    from labelgate.summary import format_summary

    def hint(data):
        summary = RunSummary(run_id="r", location="/tmp/r", exit_code=3, outcome="blocked by model-gate", steps=[],
                             data=data, gates={"model-gate": {"gate": "model-gate", "passed": False,
                                                              "reason": "not blessed"}})
        return next(line for line in format_summary(summary).splitlines() if "what to try:" in line)

    none = hint({"roles": {"dev": {"rows": 0, "origin": "-"}, "valid": {"rows": 300, "origin": "file v.csv"}}})
    some = hint({"roles": {"dev": {"rows": 200, "origin": "file dev.csv"}}})
    unknown = hint({})
    assert "give a labeled dev file" in none and "training.dev_weight" not in none
    assert "training.dev_weight: 1.0 learns from the dev rows too" in some and "give a labeled dev file" not in some
    assert "give a labeled dev file" in unknown and "training.dev_weight" in unknown
    for text in (none, some, unknown):
        assert "training.refit_valid_weight" in text and text.rstrip().endswith("(docs/own-data.md)")
