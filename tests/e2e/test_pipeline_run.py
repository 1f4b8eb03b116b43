"""The real pipeline, run locally on the example data through kfp.local, as `make run` does."""

import pytest

from labelgate.run import EXIT_BLOCKED, EXIT_OK

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _champion_version(registry):
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{registry}/mlflow.db",
                          registry_uri=f"sqlite:///{registry}/mlflow.db")
    return client.get_model_version_by_alias("youtube-spam", "champion").version


def test_example_run_pushes_a_champion(example_champion):
    registry, output = example_champion["registry"], example_champion["output"]
    assert example_champion["exit_code"] == EXIT_OK, output
    summary = example_champion["summary"]
    assert summary["gates"]["data-gate"]["passed"] is True
    assert summary["gates"]["model-gate"]["passed"] is True
    assert {s["name"]: s["status"] for s in summary["steps"]} == {
        **{name: "ok" for name in
           ("ingest", "plan-shards", "apply-lfs", "weak-label", "validate", "data-gate", "plan-search", "train",
            "select-model", "evaluate", "model-gate", "push")},
        "repair": "off",  # the example config has no repair section: the table passed through unchanged
    }
    assert summary["metrics"]["test_accuracy"] >= 0.85
    assert str(_champion_version(registry)) == str(summary["pushed"]["version"])
    # The printed summary names the steps, the gates and where the model went.
    for text in ("Steps:", "Gates:", "data-gate", "Pushed:", "Exit code: 0"):
        assert text in output
    # Ingest's notes reach the summary: some of the example's gold comments ("nice song") are also train comments.
    notes = summary["data"]["notes"]
    assert any(n.startswith("test: ") and "have a text that train also has" in n for n in notes), notes
    assert "  note: test: " in output and summary["data"]["warnings"] == []


def test_input_without_the_text_column_is_blocked_and_pushes_nothing(labelgate_run, example_data, tmp_path):
    import pandas as pd

    broken = tmp_path / "broken"
    broken.mkdir()
    for path in example_data.glob("*.csv"):
        pd.read_csv(path).drop(columns=["CONTENT"]).to_csv(broken / path.name, index=False)
    registry = tmp_path / "registry"
    result = labelgate_run("--data", str(broken), run_id="broken", registry=registry)
    assert result.exit_code == EXIT_BLOCKED, result.output
    assert "missing column(s) ['CONTENT']" in result.output
    assert "Traceback" not in result.output
    assert result.summary["pushed"] is None
    # The preflight rejects it before any step runs.
    assert result.summary["failure"]["step"] == "preflight" and "No step ran." in result.output
    steps = {s["name"]: s["status"] for s in result.summary["steps"]}
    assert steps["ingest"] == "not run" and steps["push"] != "ok"
