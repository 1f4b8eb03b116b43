"""The prediction log: rows of a real server land in Parquet; a full queue drops; the disk bound; hash mode."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from labelgate.errors import ConfigError, DataError
from labelgate.monitoring.monitor import read_log
from labelgate.serving.infra import free_port
from labelgate.serving.prediction_log import LogLocation, PredictionLog, log_files
from tests.serving.lg_running import RunningServer

TEXTS = ["free gift cards, click now", "what a beautiful song", "subscribe to my channel http://x.y", "nice"]


def _read(directory: Path) -> pd.DataFrame:
    files = log_files(directory)
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True) if files else pd.DataFrame()


def test_server_logs_sampled_answers_with_version_and_probabilities(model_dirs: list[Path], tmp_path: Path) -> None:
    log_dir = tmp_path / "predictions"
    server = RunningServer(model_dirs[0], tmp_path / "server.log", "--prediction-log", str(log_dir),
                           "--prediction-log-flush-rows", "3")
    try:
        v1 = server.post("/v1/models/spam:predict", json={"instances": TEXTS[:2]}).json()
        body = {"inputs": [{"name": "text", "datatype": "BYTES", "shape": [2], "data": TEXTS[2:]}]}
        assert server.post("/v2/models/spam/infer", json=body).status_code == 200
        bad = server.post("/v1/models/spam:predict", json={"instances": [1]})
        assert bad.status_code == 400
    finally:
        log = server.stop()
    assert "prediction log" in log
    rows = _read(log_dir)
    assert sorted(rows["text"]) == sorted(TEXTS)  # the refused request is not logged
    assert set(rows["version"]) == {"local"} and set(rows["model"]) == {"spam"}
    assert all(len(p) == 2 for p in rows["probabilities"])
    assert len(log_files(log_dir)) >= 2  # at most 3 rows per file
    first = rows.set_index("text").loc[TEXTS[0]]
    answer = v1["predictions"][0]
    assert list(first["classes"]) == list(answer["probabilities"])
    np.testing.assert_allclose(first["probabilities"], list(answer["probabilities"].values()))
    assert first["label"] == answer["label"]
    assert str(rows["time"].dt.tz) == "UTC"


def test_sample_rate_zero_logs_nothing_and_half_logs_some(tmp_path: Path) -> None:
    probs = np.tile([[0.2, 0.8]], (400, 1))
    for sample, directory in ((0.0, tmp_path / "none"), (0.5, tmp_path / "half")):
        log = PredictionLog(directory, sample=sample, seed=0)
        log.offer(model="m", version="1", texts=[f"t{i}" for i in range(400)], probs=probs, classes=["ham", "spam"])
        log.close()
        if sample == 0.0:
            assert log_files(directory) == []
        else:
            assert 100 < len(_read(directory)) < 300


def test_a_full_queue_drops_and_counts_without_blocking(tmp_path: Path) -> None:
    dropped: list[int] = []
    log = PredictionLog(tmp_path, queue_size=2, on_drop=dropped.append, start=False)  # no writer drains the queue
    probs = np.array([[0.9, 0.1], [0.3, 0.7]])

    def offer_many() -> None:
        for _ in range(10):
            log.offer(model="m", version="3", texts=["a", "b"], probs=probs, classes=["ham", "spam"])

    worker = threading.Thread(target=offer_many, daemon=True)
    worker.start()
    worker.join(60)  # a blocking put would never return: the queue is never drained
    assert not worker.is_alive()
    assert log.dropped == 16 and sum(dropped) == 16
    log.close()  # writes what was queued
    assert len(_read(tmp_path)) == 4


def test_oldest_files_are_deleted_to_honour_the_disk_bound(tmp_path: Path) -> None:
    log = PredictionLog(tmp_path, flush_rows=50, max_mb=0.02, start=False)  # ~20 kB
    rng = np.random.default_rng(0)
    for batch in range(20):
        texts = [f"batch {batch} text {i} " + "x" * int(rng.integers(50, 200)) for i in range(50)]
        log.offer(model="m", version="1", texts=texts, probs=rng.dirichlet([1, 1], 50), classes=["ham", "spam"])
        log._drain_and_write([])
    files = log_files(tmp_path)
    assert sum(Path(f).stat().st_size for f in files) <= 0.02 * 1024 * 1024
    assert 0 < len(files) < 20
    kept = _read(tmp_path)
    assert kept["text"].str.startswith("batch 19 ").any()  # the newest stays
    assert not kept["text"].str.startswith("batch 0 ").any()  # the oldest went


def test_hash_privacy_stores_no_text(tmp_path: Path) -> None:
    log = PredictionLog(tmp_path, privacy="hash")
    log.offer(model="m", version="1", texts=["secret message"], probs=np.array([[0.4, 0.6]]), classes=["ham", "spam"])
    log.close()
    rows = _read(tmp_path)
    assert rows["text"].isna().all()
    assert rows["text_sha256"].tolist() == [hashlib.sha256(b"secret message").hexdigest()]
    assert b"secret message" not in b"".join(Path(f).read_bytes() for f in log_files(tmp_path))


def test_bad_settings_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="sample rate"):
        PredictionLog(tmp_path, sample=1.5)
    with pytest.raises(ConfigError, match="privacy"):
        PredictionLog(tmp_path, privacy="none")  # type: ignore[arg-type]


def test_server_options_build_the_settings_and_name_a_bad_flag(tmp_path: Path) -> None:
    import argparse

    from labelgate.serving.options import add_arguments, prediction_log_settings

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    off = prediction_log_settings(parser.parse_args([]))
    assert off.directory is None  # off by default
    on = prediction_log_settings(parser.parse_args(["--prediction-log", str(tmp_path), "--prediction-log-sample",
                                                    "0.25", "--prediction-log-privacy", "hash"]))
    assert (on.directory, on.sample, on.privacy) == (str(tmp_path), 0.25, "hash")
    with pytest.raises(ConfigError, match="--prediction-log-max-mb"):
        prediction_log_settings(parser.parse_args(["--prediction-log-max-mb", "0"]))


def test_the_server_counts_dropped_and_written_rows_in_prometheus(model_dirs: list[Path], tmp_path: Path) -> None:
    from labelgate.serving.loader import ModelSource
    from labelgate.serving.server import _metrics, build_model
    from labelgate.serving.settings import PredictionLogSettings, RequestLimits
    from labelgate.training import load_predictor

    def count(name: str) -> float:
        return _metrics()[name]._value.get()

    model = build_model(name="spam", source=ModelSource(model_dir=model_dirs[0]), loader=load_predictor,
                        limits=RequestLimits(),
                        prediction_log=PredictionLogSettings(directory=str(tmp_path), queue_size=1))
    log = model.prediction_log
    assert log is not None
    log.close()  # the writer stopped: nothing drains the queue
    log._stop.clear()
    dropped, written = count("log_dropped"), count("log_written")
    probs = np.array([[0.9, 0.1], [0.2, 0.8]])
    for _ in range(3):  # one request fills the queue; the next two are dropped
        log.offer(model="spam", version="local", texts=["a", "b"], probs=probs, classes=["ham", "spam"])
    assert count("log_dropped") - dropped == 4
    log._drain_and_write([])
    assert count("log_written") - written == 2


@pytest.fixture()
def object_store(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An S3 server (moto) on loopback, reached only through the AWS_* variables a cluster's pod has."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    for key, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1",
                       "AWS_ENDPOINT_URL": f"http://{host}:{port}"}.items():
        monkeypatch.setenv(key, value)
    boto3.client("s3").create_bucket(Bucket="logs")
    try:
        yield "s3://logs/predictions/spam"
    finally:
        server.stop()


def test_the_log_goes_to_an_object_store_bounded_and_monitor_reads_it(object_store: str) -> None:
    rng = np.random.default_rng(0)
    log = PredictionLog(object_store, flush_rows=50, max_mb=0.02, start=False)
    for batch in range(12):
        texts = [f"batch {batch} text {i} " + "x" * int(rng.integers(50, 200)) for i in range(50)]
        log.offer(model="m", version="3", texts=texts, probs=rng.dirichlet([1, 1], 50), classes=["ham", "spam"])
        log._drain_and_write([])
    assert log.dropped == 0 and log.written == 600
    stored = LogLocation(object_store).files()
    assert 0 < len(stored) < 12 and sum(size for _, size in stored) <= 0.02 * 1024 * 1024
    assert all(path.startswith("logs/predictions/spam/predictions-") for path, _ in stored)
    rows = read_log(object_store, version="3")
    assert rows["text"].str.startswith("batch 11 ").any() and not rows["text"].str.startswith("batch 0 ").any()
    assert len(rows) == 50 * len(stored)


def test_an_unreachable_object_store_loses_rows_counted_and_monitor_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()  # nothing listens there
    for key, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1",
                       "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_MAX_ATTEMPTS": "1"}.items():
        monkeypatch.setenv(key, value)
    dropped: list[int] = []
    log = PredictionLog("s3://logs/predictions", start=False, on_drop=dropped.append)
    log.offer(model="m", version="1", texts=["a", "b"], probs=np.array([[0.4, 0.6], [0.9, 0.1]]), classes=["ham", "spam"])
    log._drain_and_write([])  # the writer thread would carry on: nothing raised
    assert (log.written, log.dropped, dropped) == (0, 2, [2])
    with pytest.raises(DataError, match="cannot read the prediction log at s3://logs/predictions.*AWS_ENDPOINT_URL"):
        read_log("s3://logs/predictions")


def test_an_unknown_location_scheme_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="prediction-log location 'nosuch://x/y'.*s3://bucket"):
        PredictionLog("nosuch://x/y")
