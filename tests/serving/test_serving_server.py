"""The real server (`python -m labelgate.serving`) in a subprocess on loopback, serving the champion."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import requests

from labelgate.registry import rollback
from labelgate.registry.push import push_model
from labelgate.serving.infra import free_port, wait_ready
from labelgate.training import load_predictor

TEXTS = ["free gift cards, click now", "what a beautiful song", "subscribe to my channel", ""]
TOKEN = "test-repository-token"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


def _push_all(registry_uri: str, model_dirs: list[Path], profile: Path, blessing: Path) -> None:
    for i, model_dir in enumerate(model_dirs[:2]):
        push_model(model_dir=model_dir, profile_path=profile, blessing_path=blessing, registry_uri=registry_uri,
                   model_name="spam", run_key=f"runs/{i}/p", infra_validate=False)


class Server:
    def __init__(self, registry_uri: str, tmp_path: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp_path / f"server-{self.port}.log"
        with self.log.open("w") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "labelgate.serving", "--registry-uri", registry_uri, "--model-name", "spam",
                 "--port", str(self.port), "--max-batch", "64"], stdout=log, stderr=subprocess.STDOUT,
                env={**os.environ, "LABELGATE_REPOSITORY_TOKEN": TOKEN})
        wait_ready(url=f"{self.url}/v2/models/spam/ready", proc=self.proc, timeout_s=120, log_path=self.log)

    def v1(self, texts: list[str]) -> requests.Response:
        return requests.post(f"{self.url}/v1/models/spam:predict", json={"instances": texts}, timeout=30)

    def v2(self, texts: list[str]) -> requests.Response:
        body = {"inputs": [{"name": "text", "datatype": "BYTES", "shape": [len(texts)], "data": texts}]}
        return requests.post(f"{self.url}/v2/models/spam/infer", json=body, timeout=30)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture
def server(registry_uri: str, model_dirs: list[Path], profile: Path, blessing: Path,
           tmp_path: Path) -> Iterator[Server]:
    _push_all(registry_uri, model_dirs, profile, blessing)
    running = Server(registry_uri, tmp_path)
    yield running
    running.stop()


def _v1_probs(response: requests.Response) -> np.ndarray:
    assert response.status_code == 200, response.text
    return np.array([[p["probabilities"]["ham"], p["probabilities"]["spam"]] for p in response.json()["predictions"]])


def _v2_probs(response: requests.Response, n: int) -> np.ndarray:
    assert response.status_code == 200, response.text
    outputs = {o["name"]: o for o in response.json()["outputs"]}
    return np.reshape(outputs["probabilities"]["data"], (n, 2))


def test_champion_answers_v1_and_v2_like_offline_and_survives_bad_requests(
        server: Server, model_dirs: list[Path]) -> None:
    expected = load_predictor(model_dirs[1]).predict_proba(TEXTS)
    np.testing.assert_allclose(_v1_probs(server.v1(TEXTS)), expected, atol=1e-5)
    np.testing.assert_allclose(_v1_probs(server.v1(TEXTS[:1])), expected[:1], atol=1e-5)
    np.testing.assert_allclose(_v2_probs(server.v2(TEXTS), len(TEXTS)), expected, atol=1e-6)
    assert server.v1(TEXTS).json()["model_version"] == "2"

    v1 = f"{server.url}/v1/models/spam:predict"
    v2 = f"{server.url}/v2/models/spam/infer"
    json_header = {"content-type": "application/json"}
    bad = [
        (v1, b"{not json", "the body is not valid JSON"),  # KServe's own JSON decoding, reworded
        (v1, b'{"instances": [NaN]}', "NaN and Infinity are not JSON"),
        (v1, json.dumps({"texts": ["a"]}).encode(), "instances"),
        (v1, json.dumps({"instances": []}).encode(), "empty"),
        (v1, json.dumps({"instances": [42]}).encode(), "must be a string"),
        (v1, json.dumps({"instances": ["a"] * 65}).encode(), "at most 64"),
        (v1, json.dumps({"instances": ["x" * 10_000_000]}).encode(), "over the limit"),
        (v2, b"{not json", "not valid JSON"),
        (v2, json.dumps({"inputs": [{"name": "text", "datatype": "FP32", "shape": [1], "data": [1.0]}]}).encode(),
         "datatype BYTES"),
        (v2, json.dumps({"input": []}).encode(), "inputs"),
    ]
    for url, body, message in bad:
        response = requests.post(url, data=body, headers=json_header, timeout=60)
        assert 400 <= response.status_code < 500, (body[:80], response.status_code, response.text)
        assert message in response.json()["error"], (body[:80], response.text)
    assert requests.get(f"{server.url}/v2/health/ready", timeout=5).status_code == 200
    np.testing.assert_allclose(_v1_probs(server.v1(TEXTS)), expected, atol=1e-5)

    metrics = requests.get(f"{server.url}/metrics", timeout=5).text
    assert 'labelgate_model_version_info{model="spam",version="2"} 1.0' in metrics
    assert 'labelgate_rejected_requests_total{reason="body_too_large"} 1.0' in metrics
    assert "request_predict_seconds" in metrics


def test_interrupted_push_keeps_serving_and_rollback_is_served_after_reload(
        server: Server, registry_uri: str, model_dirs: list[Path], profile: Path, blessing: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    before = _v1_probs(server.v1(TEXTS))
    np.testing.assert_allclose(before, load_predictor(model_dirs[1]).predict_proba(TEXTS), atol=1e-5)

    def killed(*args: object, **kwargs: object) -> None:
        raise SystemExit("push killed before the alias moved")

    monkeypatch.setattr("labelgate.registry.push.promote", killed)
    with pytest.raises(SystemExit):
        push_model(model_dir=model_dirs[2], profile_path=profile, blessing_path=blessing, registry_uri=registry_uri,
                   model_name="spam", run_key="runs/3/p", infra_validate=False)
    assert requests.post(f"{server.url}/v2/repository/models/spam/load", headers=ADMIN, timeout=60).status_code == 200
    np.testing.assert_allclose(_v1_probs(server.v1(TEXTS)), before, atol=1e-12)
    assert server.v1(TEXTS).json()["model_version"] == "2"

    assert rollback(registry_uri, "spam") == ("2", "1")
    reload = requests.post(f"{server.url}/v2/repository/models/spam/load", headers=ADMIN, timeout=60)
    assert reload.status_code == 200, reload.text
    after = server.v1(TEXTS)
    np.testing.assert_allclose(_v1_probs(after), load_predictor(model_dirs[0]).predict_proba(TEXTS), atol=1e-5)
    assert after.json()["model_version"] == "1"
    assert not np.allclose(before, _v1_probs(after))


def test_server_without_champion_exits_with_a_clear_message(registry_uri: str, tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "labelgate.serving", "--registry-uri", registry_uri,
                           "--model-name", "spam", "--port", str(free_port())],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "has no champion" in done.stderr
