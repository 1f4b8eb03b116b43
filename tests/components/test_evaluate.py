import json

import pandas as pd
import pytest
from kfp import dsl

from labelgate.components.evaluate import evaluate
from labelgate.evaluation import step as evaluation_step
from labelgate.training.step import run_train
from labelgate.training.toy import write_toy_inputs


@pytest.fixture()
def inputs(tmp_path, monkeypatch):
    monkeypatch.setattr(evaluation_step, "find_champion", lambda registry_uri, model_name: None)
    paths = write_toy_inputs(tmp_path / "in")
    run_train(data_path=paths["data"], probs_path=paths["probs"], config_path=paths["config"], seed=0,
              model_dir=str(tmp_path / "model"))
    (tmp_path / "lf.md").write_text("| LF | coverage |\n| --- | --- |\n| my | 0.3 |\n")
    (tmp_path / "val.md").write_text("all expectations passed\n")
    return paths


def _call(tmp_path, paths, **overrides):
    out = tmp_path / "evaluate"
    outputs = {name: kind(uri=str(out / name)) for name, kind in (
        ("metrics", dsl.Metrics), ("classification_metrics", dsl.ClassificationMetrics),
        ("report", dsl.HTML), ("blessing", dsl.Artifact))}
    kwargs = dict(data=dsl.Dataset(uri=paths["data"], metadata={"fingerprint": "abc"}),
                  model=dsl.Model(uri=str(tmp_path / "model")),
                  lf_analysis=dsl.Markdown(uri=str(tmp_path / "lf.md")),
                  validation_report=dsl.Markdown(uri=str(tmp_path / "val.md")),
                  config_path=paths["config"], registry_uri=f"sqlite:///{tmp_path}/registry/mlflow.db", model_name="toy",
                  min_test_accuracy=0.6, min_test_f1=0.6, champion_tolerance=-0.02, seed=0, pipeline_run="run-1",
                  **outputs)
    return evaluate.python_func(**{**kwargs, **overrides}), outputs


def test_evaluate_component_outputs_gate_metrics_curves_report_and_blessing(tmp_path, inputs):
    result, outputs = _call(tmp_path, inputs)
    assert result.blessed is True and result.reason.startswith("blessed:")
    blessing = json.loads(open(outputs["blessing"].path).read())
    assert blessing["blessed"] is True and outputs["blessing"].metadata["reason"] == result.reason
    assert blessing["lineage"]["data"]["fingerprint"] == "abc"
    assert outputs["metrics"].metadata["test_accuracy"] == pytest.approx(blessing["challenger"]["accuracy"])
    matrix = outputs["classification_metrics"].metadata["confusionMatrix"]
    assert [c["displayName"] for c in matrix["annotationSpecs"]] == ["ham", "spam"]
    assert sum(sum(row["row"]) for row in matrix["rows"]) == blessing["test_rows"]
    assert outputs["classification_metrics"].metadata["confidenceMetrics"]
    assert "Model gate: BLESSED" in open(outputs["report"].path).read()


def test_evaluate_component_blocks_on_thresholds_with_a_reason(tmp_path, inputs):
    result, _ = _call(tmp_path, inputs, min_test_accuracy=0.9999)
    assert result.blessed is False and "below the minimum" in result.reason


def test_evaluate_component_turns_an_empty_test_split_into_failure_json(tmp_path, inputs):
    frame = pd.read_parquet(inputs["data"])
    frame[frame["split"] != "test"].to_parquet(tmp_path / "no_test.parquet")
    with pytest.raises(SystemExit) as exit_info:
        _call(tmp_path, inputs, data=dsl.Dataset(uri=str(tmp_path / "no_test.parquet")))
    assert exit_info.value.code == 1
    failure = json.loads((tmp_path / "evaluate" / "failure.json").read_text())
    assert failure["error"] == "ModelError" and "test split is empty" in failure["message"]
