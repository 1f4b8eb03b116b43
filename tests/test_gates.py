import json

import pytest

from labelgate.gates import decide, read_decision


def test_decision_is_recorded_and_returned(tmp_path, capsys):
    path = tmp_path / "gate" / "decision"
    assert decide(gate="data-gate", passed=False, reason="2 critical expectations failed", out_path=str(path)) is False
    assert read_decision(path) == {"gate": "data-gate", "passed": False, "reason": "2 critical expectations failed"}
    assert "BLOCKED: 2 critical expectations failed" in capsys.readouterr().out


def test_blank_reason_is_filled_in(tmp_path):
    path = tmp_path / "decision"
    decide(gate="model-gate", passed=False, reason="  ", out_path=str(path))
    assert "without a reason" in json.loads(path.read_text())["reason"]


def test_incomplete_decision_is_rejected(tmp_path):
    path = tmp_path / "decision"
    path.write_text(json.dumps({"gate": "x"}))
    with pytest.raises(ValueError, match="lacks"):
        read_decision(path)
