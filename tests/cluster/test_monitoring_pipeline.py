"""The monitoring pipeline on a cluster: compiled with `labelgate compile --pipeline monitoring` (one `monitor`
step with the object-store and registry secrets) and scheduled through `labelgate schedule` (the KFP stand-in)."""

import yaml

from labelgate.cli import main
from labelgate.parameters import MONITOR_PIPELINE_NAME


def _compile(tmp_path):
    path = tmp_path / "monitoring.yaml"
    assert main(["compile", "--pipeline", "monitoring", "--output", str(path)]) == 0
    return path


def test_compiled_monitoring_pipeline_has_one_monitor_step(tmp_path):
    docs = list(yaml.safe_load_all(_compile(tmp_path).read_text()))
    spec, platform = docs[0], docs[1]
    assert spec["pipelineInfo"]["name"] == MONITOR_PIPELINE_NAME
    assert list(spec["root"]["dag"]["tasks"]) == ["monitor"]
    assert set(spec["root"]["inputDefinitions"]["parameters"]) == {"log_uri", "registry_uri", "model_name", "since",
                                                                   "all_versions"}
    assert spec["root"]["inputDefinitions"]["parameters"]["since"]["defaultValue"] == "24h"
    outputs = spec["components"]["comp-monitor"]["outputDefinitions"]
    assert set(outputs["parameters"]) == {"drifted", "reason"}
    secrets = {s["secretName"] for s in platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
               ["exec-monitor"]["secretAsEnv"]}
    assert secrets == {"labelgate-data", "labelgate-registry"}


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


def test_make_schedule_monitor_reaches_the_api(kfp_server, tmp_path):
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
                           "MONITOR_CRON=*/15 * * * *"], cwd=Path(__file__).resolve().parents[2], env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    spec = next(yaml.safe_load_all(package.read_text()))
    assert {e["container"]["image"] for e in spec["deploymentSpec"]["executors"].values()} == \
        {"labelgate-component:test123"}
    (recurring,) = kfp_server.state.recurring.values()
    assert recurring["trigger"]["cron_schedule"]["cron"] == "0 */15 * * * *"
    assert recurring["runtime_config"]["parameters"] == {"log_uri": "s3://mlpipeline/labelgate/predictions/youtube-spam",
                                                         "registry_uri": "http://labelgate-mlflow:5000",
                                                         "since": "1h"}
