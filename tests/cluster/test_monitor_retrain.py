"""`labelgate monitor --retrain` with a KFP host: drift submits the pipeline (the stand-in) with data_uri = a folder
holding the training files and the served texts, follows the run and exits with the retraining codes."""

# No `from __future__ import annotations` here (as conftest.py: KFP reads annotations as types).

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from labelgate.cli import main
from labelgate.contract import PROFILE_FILE, TRAINING_CONFIG_FILE
from labelgate.run import EXIT_BLOCKED, EXIT_ERROR, EXIT_OK, EXIT_RETRAINED
from labelgate.serving.prediction_log import PredictionLog

ROOT = Path(__file__).resolve().parents[2]


def _setup(tmp_path: Path, spam: np.ndarray):
    """A bundle whose profile holds a 50/50 class balance, a log of 300 texts answered with spam probabilities
    ``spam``, and a training-data folder."""
    bundle = tmp_path / "bundle"
    (bundle / "model").mkdir(parents=True)
    shutil.copyfile(ROOT / "examples" / "youtube_spam" / "config.yaml", bundle / "model" / TRAINING_CONFIG_FILE)
    (bundle / PROFILE_FILE).write_text(json.dumps({"class_balance": [0.5, 0.5]}))
    texts = [f"served text number {i}" for i in range(300)]
    log = PredictionLog(tmp_path / "log", start=False, queue_size=301)
    probs = np.column_stack([1.0 - spam, spam])
    log.offer(model="youtube-spam", version="1", texts=texts, probs=probs, classes=["ham", "spam"])
    log.close()
    data = tmp_path / "data"
    data.mkdir()
    pd.DataFrame({"COMMENT_ID": ["a", "b"], "CONTENT": ["hi", "yo"], "CLASS": [0, 1]}).to_csv(data / "x.csv",
                                                                                              index=False)
    return bundle, texts, data


def _monitor(server, package, tmp_path, bundle, data, *extra):
    return main(["monitor", "--retrain", "--log", str(tmp_path / "log"), "--bundle", str(bundle),
                 "--model-name", "spam-model", "--data", str(data), "--out", str(tmp_path / "out"),
                 "--host", server.url, "--package", str(package), "--poll", "0", *extra])


@pytest.mark.parametrize(("outcome", "code"), [("pushed", EXIT_RETRAINED), ("model-blocked", EXIT_BLOCKED),
                                               ("ingest-failed", EXIT_ERROR)])
def test_drift_submits_a_run_on_the_traffic_and_exits_with_its_outcome(kfp_server, training_package, tmp_path,
                                                                       outcome, code, capsys):
    kfp_server.state.outcome = outcome
    bundle, texts, data = _setup(tmp_path, np.full(300, 0.02))  # all answered ham: class shares drift from 50/50
    target = tmp_path / "bucket" / "retrain"
    assert _monitor(kfp_server, training_package, tmp_path, bundle, data, "--retrain-data", str(target),
                    "--param", "seed=5") == code
    printed = capsys.readouterr().out
    assert "DRIFT" in printed and "submitting a training run" in printed
    (run,) = kfp_server.state.runs.values()
    assert run["runtime_config"]["parameters"] == {"data_uri": str(target), "model_name": "spam-model", "seed": 5}
    assert "retrain" in run["display_name"]
    traffic = next(target.glob("train-traffic-*.csv"))
    assert pd.read_csv(traffic)["CONTENT"].tolist() == texts and (target / "x.csv").is_file()


def test_no_drift_submits_nothing(kfp_server, small_package, tmp_path, capsys):
    bundle, _, data = _setup(tmp_path, np.arange(300) % 2 * 0.9 + 0.05)  # half answered spam: as the profile
    assert _monitor(kfp_server, small_package, tmp_path, bundle, data, "--retrain-data", str(tmp_path / "t")) == EXIT_OK
    assert kfp_server.state.runs == {} and not (tmp_path / "t").exists()


def test_a_cluster_retrain_needs_a_folder_the_pods_read(kfp_server, small_package, tmp_path, capsys):
    bundle, _, data = _setup(tmp_path, np.full(300, 0.02))
    assert _monitor(kfp_server, small_package, tmp_path, bundle, data) == EXIT_ERROR
    assert "--retrain-data URI" in capsys.readouterr().err
    assert kfp_server.state.runs == {}
