"""Predictions run beside the event loop: while maximum-size requests are being predicted, health and a
one-text predict are answered (before the large requests finish); past the queue bound, 503 with
Retry-After. No timing thresholds: the latencies are in bench/serving.py."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from labelgate.training import load_predictor
from tests.serving.lg_running import RunningServer

MAX_BATCH, MAX_CHARS = 32, 15_000
PREDICT = "/v1/models/spam:predict"


def long_texts(seed: int) -> list[str]:
    rng = random.Random(seed)
    return [" ".join("".join(rng.choice("abcdefghij klm") for _ in range(rng.randint(2, 9))) for _ in range(3000))
            [:MAX_CHARS] for _ in range(MAX_BATCH)]


@pytest.fixture
def server(model_dirs: list[Path], tmp_path: Path) -> Iterator[RunningServer]:
    running = RunningServer(model_dirs[0], tmp_path / "server.log", "--max-batch", str(MAX_BATCH),
                            "--max-text-chars", str(MAX_CHARS), "--max-pending", "5")
    yield running
    running.stop()


def _wait_in_progress(server: RunningServer, count: int, bigs: list[Future]) -> None:
    """Until the server holds ``count`` requests in progress (each /metrics scrape is itself answered)."""
    deadline = time.monotonic() + 300  # a bound against hanging, not a measurement
    while server.metric("labelgate_requests_in_progress", model="spam") < count:
        assert not any(f.done() for f in bigs), [f.result().text[:200] for f in bigs if f.done()]
        assert time.monotonic() < deadline, "the large requests never were in progress together"
        time.sleep(0.05)


@pytest.mark.slow
def test_health_and_a_small_predict_are_answered_while_large_requests_run(
        server: RunningServer, model_dirs: list[Path]) -> None:
    batches = [long_texts(seed) for seed in range(5)]
    with ThreadPoolExecutor(max_workers=5) as pool:
        bigs = [pool.submit(server.post, PREDICT, json={"instances": texts}, timeout=600) for texts in batches[:4]]
        _wait_in_progress(server, 4, bigs)

        health = server.get("/v2/health/ready", timeout=600)
        live = server.get("/v2/health/live", timeout=600)
        small = server.post(PREDICT, json={"instances": ["what a beautiful song"]}, timeout=600)
        finished_meanwhile = sum(f.done() for f in bigs)
        assert health.status_code == 200 and live.status_code == 200
        assert small.status_code == 200 and small.json()["predictions"][0]["label"] in ("ham", "spam")
        assert finished_meanwhile < 4, "the small request was answered only after every large one"

        # One more large request fills the queue (--max-pending 5): the next is refused, not queued.
        bigs.append(pool.submit(server.post, PREDICT, json={"instances": batches[4]}, timeout=600))
        _wait_in_progress(server, 5, bigs)
        refused = server.post(PREDICT, json={"instances": ["one more"]}, timeout=600)
        assert refused.status_code == 503, refused.text
        assert int(refused.headers["retry-after"]) >= 1 and "busy" in refused.json()["error"]
        assert server.get("/v2/health/ready", timeout=600).status_code == 200
        answers = [f.result() for f in bigs]

    assert all(a.status_code == 200 and len(a.json()["predictions"]) == MAX_BATCH for a in answers)
    predictor = load_predictor(model_dirs[0])
    for i in (0, 4):  # chunked in the pool, reassembled in order
        got = [[p["probabilities"]["ham"], p["probabilities"]["spam"]] for p in answers[i].json()["predictions"]]
        np.testing.assert_allclose(got, predictor.predict_proba(batches[i]), atol=1e-5)
    assert server.metric("labelgate_rejected_requests_total", reason="overloaded") == 1
    assert server.metric("labelgate_requests_in_progress", model="spam") == 0
