"""The monitoring pipeline's step through its python_func: a registry champion, a prediction log read through
fsspec (file://, as from an object store), the report and a gate record."""

import json
import shutil
from pathlib import Path

import numpy as np
from kfp import dsl

from labelgate.components.monitor import monitor
from labelgate.contract import PROFILE_FILE, TRAINING_CONFIG_FILE
from labelgate.run import MONITOR_STEP, GateDecision, read_record
from labelgate.serving.prediction_log import PredictionLog

ROOT = Path(__file__).resolve().parents[2]


def _outputs(tmp_path):
    return {"report": dsl.HTML(uri=str(tmp_path / "o" / "report")),
            "report_md": dsl.Markdown(uri=str(tmp_path / "o" / "report_md")),
            "findings": dsl.Artifact(uri=str(tmp_path / "o" / "findings")),
            "decision": dsl.Artifact(uri=str(tmp_path / "o" / "decision"))}


def _champion(tmp_path, model_dirs, registry_uri, blessing):
    from labelgate.registry.push import push_model

    model_dir = tmp_path / "model"
    shutil.copytree(model_dirs[0], model_dir)
    shutil.copyfile(ROOT / "examples" / "youtube_spam" / "config.yaml", model_dir / TRAINING_CONFIG_FILE)
    profile = tmp_path / PROFILE_FILE
    profile.write_text(json.dumps({"class_balance": [0.5, 0.5]}))
    push_model(model_dir=model_dir, profile_path=profile, blessing_path=blessing, registry_uri=registry_uri,
               model_name="spam", run_key="runs/0/p", infra_validate=False)


def _log(directory, spam):
    log = PredictionLog(directory, start=False, queue_size=len(spam) + 1)
    log.offer(model="spam", version="1", texts=[f"text {i}" for i in range(len(spam))],
              probs=np.column_stack([1 - spam, spam]), classes=["ham", "spam"])
    log.close()


def test_monitor_step_records_drift_as_a_blocked_gate(tmp_path, model_dirs, registry_uri, blessing):
    _champion(tmp_path, model_dirs, registry_uri, blessing)
    _log(tmp_path / "log", np.full(300, 0.02))  # every answer ham: the 50/50 class balance drifted
    outputs = _outputs(tmp_path)
    drifted, reason, _ = monitor.python_func(log_uri=f"file://{tmp_path / 'log'}", registry_uri=registry_uri,
                                          model_name="spam", since="", all_versions=False, **outputs)
    assert drifted is True and "predicted class shares" in reason
    record = read_record(outputs["decision"].path)
    assert record == GateDecision(gate=MONITOR_STEP, passed=False, reason=reason)
    assert json.loads(Path(outputs["findings"].path).read_text())["drifted"] is True
    assert "DRIFT" in Path(outputs["report"].path).read_text()
    assert "| check |" in Path(outputs["report_md"].path).read_text()


def test_monitor_step_passes_undrifted_traffic_and_fails_clearly_without_rows(tmp_path, model_dirs, registry_uri,
                                                                              blessing, capsys):
    import pytest

    _champion(tmp_path, model_dirs, registry_uri, blessing)
    _log(tmp_path / "log", np.arange(300) % 2 * 0.9 + 0.05)
    outputs = _outputs(tmp_path)
    drifted, _, _ = monitor.python_func(log_uri=str(tmp_path / "log"), registry_uri=registry_uri, model_name="spam",
                                     since="24h", all_versions=False, **outputs)
    assert drifted is False and read_record(outputs["decision"].path).passed is True
    with pytest.raises(SystemExit):  # a step failure: recorded, exit 1
        monitor.python_func(log_uri=f"file://{tmp_path / 'nothing'}", registry_uri=registry_uri, model_name="spam",
                            since="", all_versions=False, **_outputs(tmp_path / "again"))
    failure = read_record(Path(_outputs(tmp_path / "again")["decision"].path).parent / "failure.json")
    assert failure.step == MONITOR_STEP and "no prediction-log files" in failure.message


def test_monitor_step_writes_retraining_data_on_drift_only(tmp_path, model_dirs, registry_uri, blessing,
                                                          example_data):
    """With retrain_data_uri the drifted window's texts join the training files under <prefix>/<run id>, and the
    folder is the step's retrain_uri output (what the pipeline's nested training run reads); without drift, or
    without the prefix, the output is empty and nothing is written."""
    import pandas as pd

    _champion(tmp_path, model_dirs, registry_uri, blessing)
    _log(tmp_path / "log", np.full(300, 0.02))
    retrain = dict(retrain_data_uri=f"file://{tmp_path / 'retrain'}", data_uri=str(example_data),
                   pipeline_run="run-7")
    drifted, _, uri = monitor.python_func(log_uri=str(tmp_path / "log"), registry_uri=registry_uri, model_name="spam",
                                          since="", all_versions=False, **retrain, **_outputs(tmp_path))
    assert drifted is True and uri == f"file://{tmp_path / 'retrain' / 'run-7'}"
    folder = tmp_path / "retrain" / "run-7"
    assert sorted(p.name for p in folder.glob("Youtube*.csv")) == sorted(p.name for p in example_data.glob("*.csv"))
    (traffic,) = folder.glob("train-traffic-*.csv")
    assert pd.read_csv(traffic)["CONTENT"].tolist() == [f"text {i}" for i in range(300)]

    _log(tmp_path / "calm", np.arange(300) % 2 * 0.9 + 0.05)
    drifted, _, uri = monitor.python_func(log_uri=str(tmp_path / "calm"), registry_uri=registry_uri,
                                          model_name="spam", since="", all_versions=False,
                                          **{**retrain, "pipeline_run": "run-8"}, **_outputs(tmp_path / "calm-out"))
    assert drifted is False and uri == "" and not (tmp_path / "retrain" / "run-8").exists()
    drifted, _, uri = monitor.python_func(log_uri=str(tmp_path / "log"), registry_uri=registry_uri, model_name="spam",
                                          since="", all_versions=False, **_outputs(tmp_path / "plain"))
    assert drifted is True and uri == ""


def test_monitor_step_refuses_to_retrain_on_a_log_of_hashes(tmp_path, model_dirs, registry_uri, blessing,
                                                            example_data):
    import pytest

    _champion(tmp_path, model_dirs, registry_uri, blessing)
    log = PredictionLog(tmp_path / "log", start=False, queue_size=10, privacy="hash")
    log.offer(model="spam", version="1", texts=["a", "b"], probs=np.array([[0.9, 0.1], [0.8, 0.2]]),
              classes=["ham", "spam"])
    log.close()
    outputs = _outputs(tmp_path)
    with pytest.raises(SystemExit):
        monitor.python_func(log_uri=str(tmp_path / "log"), registry_uri=registry_uri, model_name="spam", since="",
                            all_versions=False, retrain_data_uri=str(tmp_path / "retrain"),
                            data_uri=str(example_data), pipeline_run="r", **outputs)
    failure = read_record(Path(outputs["decision"].path).parent / "failure.json")
    assert "--prediction-log-privacy text" in failure.message and not (tmp_path / "retrain").exists()
