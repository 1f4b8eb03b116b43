"""After the real pipeline (`labelgate run`, as `make run` calls it), the server (`labelgate serve`, as
`make serve` runs it) answers V1 and V2 with the champion's predictions: the same probabilities the
offline evaluation computed for the gold test texts, and the same test accuracy."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import requests

from labelgate.registry import champion_file
from labelgate.serving.infra import free_port, wait_ready
from labelgate.training import load_predictor

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pipeline_run(example_champion: dict) -> tuple[Path, str]:
    """The example's run (shared across the suite) and its registry."""
    assert example_champion["exit_code"] == 0, example_champion["output"][-6000:]
    return example_champion["run_dir"], example_champion["registry_uri"]


@pytest.fixture(scope="module")
def served(pipeline_run: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    _, registry_uri = pipeline_run
    port = free_port()
    log = tmp_path_factory.mktemp("serve-log") / "serve.log"
    with log.open("w") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "labelgate.cli", "serve", "--registry-uri", registry_uri,
                                 "--model-name", "youtube-spam", "--port", str(port)],
                                cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT)
    try:
        wait_ready(url=f"http://127.0.0.1:{port}/v2/health/ready", proc=proc, timeout_s=120, log_path=log)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_served_champion_matches_the_offline_evaluation(pipeline_run: tuple[Path, str], served: str) -> None:
    run_dir, registry_uri = pipeline_run
    (data_path,) = run_dir.glob("*/ingest/data")
    (model_dir,) = run_dir.glob("*/select-model/model")  # the model evaluate scored and push registered
    test = pd.read_parquet(data_path).query("split == 'test'")
    texts, gold = test["CONTENT"].astype(str).tolist(), test["CLASS"].astype(int).to_numpy()
    offline = load_predictor(model_dir).predict_proba(texts)

    v1, v2 = [], []
    for start in range(0, len(texts), 50):
        chunk = texts[start:start + 50]
        answer = requests.post(f"{served}/v1/models/youtube-spam:predict", json={"instances": chunk}, timeout=60)
        assert answer.status_code == 200, answer.text
        v1 += [[p["probabilities"]["ham"], p["probabilities"]["spam"]] for p in answer.json()["predictions"]]
        body = {"inputs": [{"name": "text", "datatype": "BYTES", "shape": [len(chunk)], "data": chunk}]}
        answer = requests.post(f"{served}/v2/models/youtube-spam/infer", json=body, timeout=60)
        assert answer.status_code == 200, answer.text
        outputs = {o["name"]: o for o in answer.json()["outputs"]}
        v2 += np.reshape(outputs["probabilities"]["data"], (len(chunk), 2)).tolist()
    single = requests.post(f"{served}/v1/models/youtube-spam:predict", json={"instances": texts[:1]}, timeout=60)
    np.testing.assert_allclose(np.asarray(v1), offline, atol=1e-5)
    np.testing.assert_allclose(np.asarray(v2), offline, atol=1e-5)
    np.testing.assert_allclose([list(single.json()["predictions"][0]["probabilities"].values())], offline[:1],
                               atol=1e-5)

    blessing = json.loads(champion_file(registry_uri, "youtube-spam", "blessing.json").read_text())
    served_accuracy = float(np.mean(np.asarray(v1).argmax(axis=1) == gold))
    assert served_accuracy == pytest.approx(blessing["challenger"]["accuracy"], abs=1e-12)
