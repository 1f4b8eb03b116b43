"""The monitoring pipeline on a cluster: compiled with `labelgate compile --pipeline monitoring` (a `monitor`
step with the object-store and registry secrets, the training pipeline nested under its drift condition) and
scheduled through `labelgate schedule` (the KFP stand-in)."""

import pytest
import yaml

from labelgate.cli import main
from labelgate.parameters import MONITOR_PIPELINE_NAME


def _compile(tmp_path):
    path = tmp_path / "monitoring.yaml"
    assert main(["compile", "--pipeline", "monitoring", "--output", str(path)]) == 0
    return path


def test_compiled_monitoring_pipeline_monitors_then_retrains_on_drift(tmp_path):
    """One monitor step; under a condition on its retrain_uri output, the training pipeline itself (nested, not a
    copy) with every training parameter but the local runner's digests passed through, and the retraining folder
    as its data_uri. Every step of both carries its cluster settings."""
    from labelgate.pipelines.training import pipeline as training

    docs = list(yaml.safe_load_all(_compile(tmp_path).read_text()))
    spec, platform = docs[0], docs[1]
    assert spec["pipelineInfo"]["name"] == MONITOR_PIPELINE_NAME
    tasks = spec["root"]["dag"]["tasks"]
    (condition,) = [name for name in tasks if name not in ("monitor", "retrain-gate")]
    assert tasks["retrain-gate"]["inputs"]["parameters"]["retrain_uri"]["taskOutputParameter"] == \
        {"outputParameterKey": "retrain_uri", "producerTask": "monitor"}
    assert tasks[condition]["triggerPolicy"]["condition"] == \
        "inputs.parameter_values['pipelinechannel--retrain-gate-Output'] == true"
    params = spec["root"]["inputDefinitions"]["parameters"]
    training_params = set(training.component_spec.inputs) - {n for n in training.component_spec.inputs
                                                             if n.endswith("_digest")}
    assert set(params) == {"log_uri", "since", "all_versions", "retrain_data_uri"} | training_params
    assert params["since"]["defaultValue"] == "24h" and params["retrain_data_uri"]["defaultValue"] == ""
    nested = spec["components"][tasks[condition]["componentRef"]["name"]]["dag"]["tasks"]
    (run,) = nested.values()
    assert spec["components"][run["componentRef"]["name"]]["dag"]["tasks"].keys() >= {"ingest", "weak-label", "validate"}
    assert run["inputs"]["parameters"]["data_uri"] == {"componentInputParameter": "pipelinechannel--monitor-retrain_uri"}
    assert set(run["inputs"]["parameters"]) == training_params
    outputs = spec["components"]["comp-monitor"]["outputDefinitions"]
    assert set(outputs["parameters"]) == {"drifted", "reason", "retrain_uri"}
    executors = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    assert {s["secretName"] for s in executors["exec-monitor"]["secretAsEnv"]} == {"labelgate-data", "labelgate-registry"}
    assert {"exec-ingest", "exec-train", "exec-push"} <= set(executors)


def test_config_is_refused_for_the_monitoring_pipeline(tmp_path, capsys):
    assert main(["compile", "--pipeline", "monitoring", "--config", "examples/youtube_spam/config.yaml",
                 "--output", str(tmp_path / "m.yaml")]) == 1
    assert "training pipeline's defaults" in capsys.readouterr().err


def test_schedule_monitoring_through_the_schedule_command(kfp_server, tmp_path):
    package = _compile(tmp_path)
    code = main(["schedule", "--host", kfp_server.url, "--package", str(package), "--pipeline-name",
                 MONITOR_PIPELINE_NAME, "--cron", "0 * * * *", "--name", "hourly-monitor",
                 "--param", "log_uri=s3://bucket/predictions", "--param", "since=1h"])
    assert code == 0
    assert kfp_server.paths()[-1] == "POST /apis/v2beta1/recurringruns"
    body = kfp_server.state.calls[-1].body
    assert body["trigger"] == {"cron_schedule": {"cron": "0 0 * * * *"}}
    assert body["display_name"] == "hourly-monitor"
    assert body["runtime_config"]["parameters"] == {"log_uri": "s3://bucket/predictions", "since": "1h"}
    (pipeline,) = kfp_server.state.pipelines.values()
    assert pipeline["display_name"] == MONITOR_PIPELINE_NAME


@pytest.mark.parametrize("retrain", [False, True], ids=["monitor-only", "retrain-on-drift"])
def test_make_schedule_monitor_reaches_the_api(kfp_server, tmp_path, retrain):
    import os
    import shutil
    import subprocess
    from pathlib import Path

    from ci_needs import needs

    needs(shutil.which("make") is not None, "make is not installed")
    package = tmp_path / "m.yaml"
    env = {k: v for k, v in os.environ.items() if k != "KFP_HOST"}
    done = subprocess.run(["make", "--no-print-directory", "-o", ".venv/.installed", "schedule-monitor",
                           f"KFP_HOST={kfp_server.url}", f"MONITOR_YAML={package}", "IMAGE_TAG=test123",
                           "MONITOR_CRON=*/15 * * * *", *(["RETRAIN_DATA_URI=s3://b/retrain"] if retrain else [])],
                          cwd=Path(__file__).resolve().parents[2], env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    spec = next(yaml.safe_load_all(package.read_text()))
    assert {e["container"]["image"] for e in spec["deploymentSpec"]["executors"].values()} == \
        {"labelgate-component:test123"}
    (recurring,) = kfp_server.state.recurring.values()
    assert recurring["trigger"]["cron_schedule"]["cron"] == "0 */15 * * * *"
    monitoring = {"log_uri": "s3://mlpipeline/labelgate/predictions/youtube-spam",
                  "registry_uri": "http://labelgate-mlflow:5000", "since": "1h"}
    # retraining: the prefix, plus what `make submit` passes (the data, and where a blessed model is deployed)
    retraining = {"retrain_data_uri": "s3://b/retrain", "data_uri": "s3://mlpipeline/labelgate/data/youtube-spam",
                  "inference_service": "labelgate-spam", "serving_image": "labelgate-serving:test123",
                  "prediction_log": "s3://mlpipeline/labelgate/predictions/youtube-spam"}
    assert recurring["runtime_config"]["parameters"] == {**monitoring, **(retraining if retrain else {})}
