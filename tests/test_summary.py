"""The end-of-run printout: the metrics table (challenger beside champion when both were measured) and
what a resumed run reused."""

from __future__ import annotations

from labelgate.run import RunSummary
from labelgate.summary import format_summary


def _summary(**fields) -> RunSummary:
    return RunSummary(**{"run_id": "r", "location": "/tmp/r", "exit_code": 0, "outcome": "pushed", "steps": [],
                         **fields})


def test_metrics_put_the_champion_beside_the_challenger():
    text = format_summary(_summary(metrics={
        "test_accuracy": 0.91234, "champion_test_accuracy": 0.9, "test_rows": 300, "blessed": True,
        "train_seconds": 1.5}))
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("Test metrics:"))
    assert header.split()[-2:] == ["challenger", "champion"]
    accuracy = next(line for line in lines if line.strip().startswith("accuracy"))
    assert accuracy.split()[1:] == ["0.9123", "0.9000"]
    rows = next(line for line in lines if line.strip().startswith("rows"))
    assert rows.split()[1:] == ["300", "-"]  # counts without decimals; no champion figure for it
    assert any(line.split() == ["train_seconds", "+1.5000"] for line in lines)
    assert "blessed" not in text


def test_metrics_without_a_champion_are_one_column_and_none_print_nothing():
    text = format_summary(_summary(metrics={"test_f1": 0.8}))
    assert "Test metrics:\n  f1" in text and "champion" not in text
    assert "Test metrics" not in format_summary(_summary(metrics={"note": "no numbers"}))


def test_a_resumed_run_names_the_steps_it_reused():
    steps = [{"name": "ingest", "status": "reused", "seconds": None},
             {"name": "train", "status": "ok", "seconds": 2.0, "runs": 1},
             {"name": "apply-lfs", "status": "ok", "seconds": 3.0, "runs": 3}]
    text = format_summary(_summary(steps=steps, resumed_from="run-1"))
    assert "Resumed run-1: reused ingest (unchanged inputs)" in text
    assert "apply-lfs" in text and "(3 parallel tasks)" in text
    assert "reused no step" in format_summary(_summary(steps=steps[1:], resumed_from="run-1"))


def test_ingest_notes_are_printed_with_the_data_lines():
    text = format_summary(_summary(data={"roles": {"valid": {"rows": 4, "origin": "file valid.csv"}},
                                         "notes": ["valid has only 4 row(s): ..."]}))
    assert "  note: valid has only 4 row(s): ..." in text
