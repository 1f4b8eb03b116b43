"""The local runner's mechanics on a tiny pipeline: progress, gate decisions, failures, exit codes."""

import json

import pytest
from kfp import dsl
from kfp.dsl import Dataset, Input, Markdown, Output

from labelgate.components.data_gate import data_gate
from labelgate.pipelines.local import format_local_summary, run_local
from labelgate.run import EXIT_BLOCKED, EXIT_ERROR, EXIT_OK


@dsl.component(base_image="python:3.11", install_kfp_package=False)
def ingest(mode: str, data: Output[Dataset]):
    from labelgate.errors import DataError
    from labelgate.run import progress, step_failures

    with step_failures("ingest", data.path):
        if mode == "bad-input":
            raise DataError("raw.csv: missing column(s) ['CONTENT']")
        if mode == "crash":
            raise RuntimeError("a bug")
        progress("ingest", "read 3 rows")
        open(data.path, "w").write("rows")


@dsl.component(base_image="python:3.11", install_kfp_package=False)
def push(data: Input[Dataset], pushed: Output[Markdown]) -> str:
    open(pushed.path, "w").write("pushed")
    pushed.metadata["registry_uri"] = "sqlite:///x.db"
    return "7"


@dsl.pipeline(name="runner-test")
def tiny(mode: str = "ok", passed: bool = True):
    got = ingest(mode=mode)
    gate = data_gate(passed=passed, reason="3 rows, all checks passed" if passed else "CONTENT is empty in 3 rows")
    gate.after(got)
    with dsl.If(gate.outputs["Output"] == True):  # noqa: E712
        push(data=got.outputs["data"])


@pytest.mark.parametrize(
    ("arguments", "exit_code", "outcome"),
    [
        ({"mode": "ok", "passed": True}, EXIT_OK, "pushed"),
        ({"mode": "ok", "passed": False}, EXIT_BLOCKED, "blocked by data-gate"),
        ({"mode": "bad-input", "passed": True}, EXIT_BLOCKED, "ingest rejected the input"),
        ({"mode": "crash", "passed": True}, EXIT_ERROR, "error"),
    ],
)
def test_outcome_and_exit_code(tmp_path, arguments, exit_code, outcome):
    lines = []
    summary = run_local(pipeline_func=tiny, arguments=arguments, runs_dir=tmp_path, run_id="r1", echo=lines.append)
    assert summary.exit_code == exit_code, format_local_summary(summary)
    assert outcome in summary.outcome
    steps = {s["name"]: s["status"] for s in summary.steps}
    saved = json.loads((tmp_path / "r1" / "summary.json").read_text())
    assert saved["exit_code"] == exit_code
    assert (tmp_path / "r1" / "pipeline.log").stat().st_size > 0
    if arguments["mode"] == "ok":
        assert steps["ingest"] == "ok"
        assert any("labelgate[ingest]: read 3 rows" in line for line in lines)
        gate = summary.gates["data-gate"]
        assert gate["passed"] is arguments["passed"]
        assert steps["push"] == ("ok" if arguments["passed"] else "skipped")
    if exit_code == EXIT_OK:
        # The pushed step's own metadata, plus the run's registry and model name.
        assert summary.pushed == {"registry_uri": "sqlite:///x.db", "version": "7", "model_name": None}
    if arguments["mode"] == "bad-input":
        assert summary.failure["message"] == "raw.csv: missing column(s) ['CONTENT']"
        assert "Failed in ingest: DataError" in format_local_summary(summary)
    if arguments["mode"] == "crash":
        assert steps["ingest"] == "FAILED" and summary.failure is None


@dsl.component(base_image="python:3.11", install_kfp_package=False)
def table(data: Output[Dataset]):
    import pandas as pd

    zips = ["1", "2", "3"] * 8
    pd.DataFrame({"zip": zips, "city": [{"1": "a", "2": "b", "3": "c"}[z] for z in zips]}).to_parquet(data.path)


@dsl.pipeline(name="repair-test")
def with_repair(config_path: str):
    from labelgate.components.repair import repair

    repair(data=table().outputs["data"], constraints_path="", config_path=config_path)


@pytest.mark.parametrize(("section", "status"), [("", "off"), ("repair:\n  imputer_steps: 20\n  model_epochs: 20\n", "ok")])
def test_repair_step_shows_off_without_a_repair_section(tmp_path, section, status):
    config = tmp_path / "config.yaml"
    config.write_text("training:\n  epochs: 1\n" + section)
    summary = run_local(pipeline_func=with_repair, arguments={"config_path": str(config)}, runs_dir=tmp_path,
                        run_id="r", echo=lambda line: None)
    steps = {s["name"]: s["status"] for s in summary.steps}
    assert steps["repair"] == status, format_local_summary(summary)
    assert "repair.html" in summary.outputs and "repair.md" in summary.outputs
    assert (tmp_path / "r" / "repair.md").read_text().startswith("# Data repair: off" if status == "off"
                                                                 else "# Data repair: 0 cells changed")
