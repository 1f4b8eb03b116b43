"""The loop closed on the example: a champion from one real pipeline run, traffic in its prediction log, and
`labelgate monitor --retrain`. Drifted traffic (texts no LF covers) starts a `labelgate run` on the training data
plus the traffic that ends in a new blessed champion; traffic sampled from the example's own comments starts
nothing. One pipeline run makes the champion for both cases; the drifted case adds the one retraining run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from labelgate.run import EXIT_OK, EXIT_RETRAINED
from tests.conftest import copy_registry

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
MODEL = "youtube-spam"
LOREM = ["lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit", "sed", "tempor",
         "incididunt", "labore", "magna", "aliqua", "veniam", "nostrud"]


@pytest.fixture(scope="module")
def champion(example_champion: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The example's champion (one run shared across the suite) in a copy of its registry: retraining moves it."""
    assert example_champion["exit_code"] == EXIT_OK, example_champion["output"]
    uri = copy_registry(example_champion, tmp_path_factory.mktemp("retrain") / "registry")
    return {"registry_uri": uri, "version": str(example_champion["summary"]["pushed"]["version"])}


@pytest.fixture(scope="module")
def comments(example_data: Path) -> pd.DataFrame:
    return pd.concat([pd.read_csv(p) for p in sorted(example_data.glob("*.csv"))], ignore_index=True)


def _versions(registry_uri: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    from labelgate.registry.store import list_versions

    return {v.version: (v.status, v.aliases) for v in list_versions(registry_uri, MODEL)}


def _serve_log(directory: Path, texts: list[str], champion: dict) -> Path:
    """What `labelgate serve --prediction-log` writes for ``texts`` answered by the champion itself."""
    from labelgate.champion import registered_model_dir
    from labelgate.serving.prediction_log import PredictionLog
    from labelgate.training import load_predictor

    model_dir, version = registered_model_dir(champion["registry_uri"], MODEL)
    predictor = load_predictor(model_dir)
    log = PredictionLog(directory, start=False, queue_size=len(texts) + 1)
    for start in range(0, len(texts), 32):
        batch = texts[start:start + 32]
        log.offer(model=MODEL, version=version, texts=batch, probs=predictor.predict_proba(batch),
                  classes=list(predictor.classes))
    log.close()
    return directory


def _monitor(log: Path, champion: dict, work: Path, example_data: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "KFP_HOST"}  # no cluster: the run is local
    command = [sys.executable, "-m", "labelgate.cli", "monitor", "--retrain", "--log", str(log),
               "--registry-uri", champion["registry_uri"], "--data", str(example_data),
               "--out", str(work / "monitoring"), "--runs-dir", str(work / "runs")]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=1200,
                          env={**env, "PYTHONUNBUFFERED": "1"})


def _drifted_texts(comments: pd.DataFrame) -> list[str]:
    """400 texts of the example's text lengths, in words no LF knows: LF coverage collapses."""
    rng = np.random.default_rng(0)
    lengths = comments["CONTENT"].str.len().sample(400, random_state=3, replace=True).to_numpy()
    texts = []
    for length in lengths:
        words: list[str] = []
        while len(" ".join(words)) < length:
            words.append(str(rng.choice(LOREM)))
        texts.append(" ".join(words))
    return texts


def test_undrifted_traffic_starts_no_run(champion, comments, example_data: Path, tmp_path: Path) -> None:
    before = _versions(champion["registry_uri"])
    texts = comments["CONTENT"].sample(400, random_state=7).tolist()
    done = _monitor(_serve_log(tmp_path / "log", texts, champion), champion, tmp_path, example_data)
    assert done.returncode == EXIT_OK, done.stdout + done.stderr
    assert "no training run started" in done.stdout
    assert not (tmp_path / "runs").exists()  # no run folder, no retraining data
    assert not list((tmp_path / "monitoring").glob("retrain-*"))
    assert _versions(champion["registry_uri"]) == before


def test_drifted_traffic_retrains_to_a_new_blessed_champion(champion, comments, example_data: Path,
                                                           tmp_path: Path) -> None:
    before = _versions(champion["registry_uri"])
    assert "champion" in before[champion["version"]][1]
    texts = _drifted_texts(comments)
    done = _monitor(_serve_log(tmp_path / "log", texts, champion), champion, tmp_path, example_data)
    output = done.stdout + done.stderr
    assert done.returncode == EXIT_RETRAINED, output
    assert "DRIFT" in output and "coverage" in output

    after = _versions(champion["registry_uri"])
    new = [v for v in after if v not in before]
    assert len(new) == 1, after
    status, aliases = after[new[0]]
    assert status == "verified" and "champion" in aliases  # the champion moved to the retrained version
    assert "champion" not in after[champion["version"]][1]

    (run_dir,) = [p for p in (tmp_path / "runs").iterdir() if p.is_dir()]  # exactly one run started
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["exit_code"] == EXIT_OK and str(summary["pushed"]["version"]) == new[0]
    assert summary["gates"]["data-gate"]["passed"] and summary["gates"]["model-gate"]["passed"]
    data_dir = Path(summary["arguments"]["data_uri"])
    traffic = [p for p in data_dir.iterdir() if p.name.startswith("train-traffic-")]
    assert len(traffic) == 1 and pd.read_csv(traffic[0])["CONTENT"].tolist() == texts
    assert sorted(p.name for p in data_dir.glob("Youtube*.csv")) == sorted(p.name for p in example_data.glob("*.csv"))
    # The run used the champion's own LFs and config (kept in its bundle), copied beside the data.
    assert Path(summary["arguments"]["lf_module"]).name == "lfs.py"
    assert Path(summary["arguments"]["config_path"]).parent == data_dir / "champion"


def test_the_monitoring_pipeline_retrains_on_drift_with_the_nested_training_pipeline(
        example_champion: dict, comments, example_data: Path, tmp_path: Path) -> None:
    """The cluster's scheduled path, run by kfp.local: the monitoring pipeline with retrain_data_uri judges the
    drifted window, writes the retraining folder and runs the training pipeline on it (the same definition), whose
    gates and push move the champion to the retrained version."""
    from labelgate.parameters import DEFAULTS
    from labelgate.pipelines.local import run_local
    from labelgate.pipelines.monitoring import pipeline as monitoring

    uri = copy_registry(example_champion, tmp_path / "registry")
    champion = {"registry_uri": uri}
    before = _versions(uri)
    log = _serve_log(tmp_path / "log", _drifted_texts(comments), champion)
    arguments = {"log_uri": str(log), "registry_uri": uri, "model_name": MODEL, "since": "", "all_versions": False,
                 "retrain_data_uri": str(tmp_path / "retrain"), "data_uri": str(example_data),
                 **{name: str(ROOT / getattr(DEFAULTS, name))
                    for name in ("lf_module", "config_path", "suite_path", "constraints_path")}}
    summary = run_local(pipeline_func=monitoring, arguments=arguments, runs_dir=tmp_path / "runs", run_id="monitor",
                        echo=lambda line: None)
    log_text = (tmp_path / "runs" / "monitor" / "pipeline.log").read_text()
    assert summary.exit_code == EXIT_OK, log_text[-4000:]
    ran = {row["name"] for row in summary.steps if row["status"] == "ok"}
    assert {"monitor", "ingest", "validate", "train", "evaluate", "push"} <= ran, summary.steps

    (folder,) = (tmp_path / "retrain").iterdir()  # <prefix>/<the pipeline run's id>
    (traffic,) = folder.glob("train-traffic-*.csv")
    assert len(pd.read_csv(traffic)) == 400
    after = _versions(uri)
    new = [v for v in after if v not in before]
    assert len(new) == 1 and "champion" in after[new[0]][1], after
    assert summary.gates["data-gate"]["passed"] and summary.gates["model-gate"]["passed"]
