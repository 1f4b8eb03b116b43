"""The multi-class example (examples/support_tickets, made with `labelgate init`), run end to end as
`make run PROJECT=examples/support_tickets` does, on its generated data."""

import json
import sys
from pathlib import Path

import pytest

from labelgate.run import EXIT_OK
from tests.e2e.conftest import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
sys.path.insert(0, str(ROOT / "examples" / "support_tickets"))
import make_data  # noqa: E402


def test_six_class_project_pushes_a_model_scored_on_exactly_its_test_file(labelgate_run, tmp_path):
    data = make_data.write(tmp_path / "data")
    # --search-groups 2: the model search fans out over two train tasks (as over two pods on a cluster).
    result = labelgate_run("--project", "examples/support_tickets", "--data", str(data), "--search-groups", "2",
                           run_id="tickets", registry=tmp_path / "registry")
    assert result.exit_code == EXIT_OK, result.output
    summary = result.summary
    assert summary["pushed"]["model_name"] == "support-tickets"
    assert summary["metrics"]["test_rows"] == 300
    assert {role: info["rows"] for role, info in summary["data"]["roles"].items()} == {
        "train": 1500, "dev": 200, "valid": 200, "test": 300}
    assert "(macro average over 6 classes)" in result.output
    assert "make serve MODEL_NAME=support-tickets" in result.output
    # Its config names no model (training.family: auto): the search chose one on the valid split.
    model = Path(summary["outputs"]["model"])
    trials = json.loads((model / "trials.json").read_text())
    assert trials["scored_on"] == "valid" and len(trials["trials"]) >= 1
    assert trials["chosen_family"] == json.loads((model / "model.json").read_text())["family"]
    # Two train tasks each ran their share of the search; select-model kept the best and merged the trials.
    steps = {row["name"]: row for row in summary["steps"]}
    assert steps["train"]["runs"] == 2 and steps["select-model"]["status"] == steps["plan-search"]["status"] == "ok"
    assert trials["groups"] == 2 and {t["group"] for t in trials["trials"]} == {0, 1}
    chosen = [t for t in trials["trials"] if t["chosen"]]
    # The best valid score, or the baseline (the config's hashed_linear trial) when no lead was significant.
    assert len(chosen) == 1
    assert chosen[0]["valid_accuracy"] == max(t["valid_accuracy"] for t in trials["trials"]) or \
        (chosen[0]["family"], chosen[0]["source"]) == ("hashed_linear", "config")
    assert "kept group" in result.output
