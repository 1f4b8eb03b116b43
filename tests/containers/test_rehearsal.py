"""The cluster rehearsed with real servers in containers on a private Docker network:

- the MLflow registry started from the component image with ``manifests/base/registry.yaml``'s command,
  security settings and memory limit, its resident memory sampled throughout;
- an S3 server (moto) holding the example data, reached by the steps through the data secret's variables;
- the pipeline under DockerRunner with ``data_uri=s3://...`` and ``registry_uri=http://labelgate-mlflow:5000``;
- the serving image loading the champion from that registry and answering V1 and V2;
- a second run blocked by the model gate, after which the predictor still serves the first champion.
The measurements go to ``build/rehearsal.json`` (README: "What was verified where").
"""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from labelgate.pipelines.containers import (
    REGISTRY_URI_IN_NETWORK,
    DockerSettings,
    docker_memory,
    docker_network,
    registry_command,
    registry_server,
)
from labelgate.run import EXIT_BLOCKED, EXIT_OK

pytestmark = [pytest.mark.container, pytest.mark.e2e, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "youtube_spam"
BUCKET = "mlpipeline"
DATA_KEY = "labelgate/data/youtube-spam"
MODEL = "youtube-spam"
# The manifest's limit must leave this much room above the largest resident memory measured here.
HEADROOM = 1.5


class MemorySampler(threading.Thread):
    """Samples a container's resident memory (cgroup rss, or anon on cgroup v2) once a second."""

    def __init__(self, container) -> None:
        super().__init__(daemon=True)
        self.container, self.peak, self.samples, self.done = container, 0, 0, threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            try:
                stats = self.container.stats(stream=False)["memory_stats"].get("stats", {})
            except Exception:  # the container went away: the test reports why
                return
            resident = stats.get("total_rss", stats.get("rss", stats.get("anon", 0)))
            self.peak, self.samples = max(self.peak, resident), self.samples + 1
            self.done.wait(1)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _post(url: str, body: dict, headers: dict[str, str] | None = None) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _wait_ready(url: str, container, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        container.reload()
        if container.status == "exited":
            break
        time.sleep(1)
    pytest.fail(f"{url} not ready; logs:\n{container.logs(tail=40).decode(errors='replace')}")


def test_cluster_rehearsal_with_real_servers(docker_client, pipeline_image, serving_image, example_data, tmp_path):
    import boto3
    from moto.server import ThreadedMotoServer

    from labelgate.pipelines.local import run_local
    from labelgate.pipelines.training import pipeline

    timings: dict[str, float] = {}
    started = time.monotonic()
    name = f"labelgate-rehearsal-{tmp_path.name[-12:]}".lower().replace("_", "-")
    with docker_network(docker_client, name) as network:
        gateway = docker_client.networks.get(network).attrs["IPAM"]["Config"][0]["Gateway"]
        # The object store: moto's S3 server on this machine's address in the network.
        s3_port = _free_port()
        moto = ThreadedMotoServer(ip_address=gateway, port=s3_port, verbose=False)
        moto.start()
        try:
            endpoint = f"http://{gateway}:{s3_port}"
            credentials = {"AWS_ACCESS_KEY_ID": "rehearsal", "AWS_SECRET_ACCESS_KEY": "rehearsal",
                           "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": endpoint}
            s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id="rehearsal", aws_secret_access_key="rehearsal")
            s3.create_bucket(Bucket=BUCKET)
            for path in sorted(example_data.glob("*.csv")):
                s3.upload_file(str(path), BUCKET, f"{DATA_KEY}/{path.name}")

            # The registry, as manifests/base/registry.yaml runs it (command, user, read-only root, limit).
            command, _, limit = registry_command()
            with registry_server(docker_client, image=pipeline_image, network=network, store=tmp_path / "registry",
                                 name=f"{name}-mlflow") as registry:
                sampler = MemorySampler(registry.container)
                sampler.start()
                arguments = {"data_uri": f"s3://{BUCKET}/{DATA_KEY}", "registry_uri": REGISTRY_URI_IN_NETWORK,
                             "lf_module": str(EXAMPLE / "lfs.py"), "config_path": str(EXAMPLE / "config.yaml"),
                             "suite_path": str(EXAMPLE / "expectations.json"),
                             "constraints_path": str(EXAMPLE / "constraints.txt"),
                             "model_name": MODEL, "seed": 0, "min_test_accuracy": 0.85, "min_test_f1": 0.85,
                             "champion_tolerance": -0.02, "lf_shards": 2}
                settings = DockerSettings(network=network, environment=credentials)
                t0 = time.monotonic()
                first = run_local(pipeline_func=pipeline, image=pipeline_image, arguments=arguments, runs_dir=tmp_path / "runs", run_id="first", runner="docker",
                                  docker=settings, echo=lambda line: None)
                timings["first_run_s"] = round(time.monotonic() - t0, 1)
                assert first.exit_code == EXIT_OK, (first.outcome, first.failure, first.steps)
                assert first.pushed["version"] == "1"

                # The predictor: the serving image on the registry's champion, as the InferenceService runs it.
                predictor = docker_client.containers.run(
                    serving_image, command=["--registry-uri", REGISTRY_URI_IN_NETWORK, "--model-name", MODEL,
                                            "--host", "0.0.0.0", "--port", "8080"],
                    name=f"{name}-predictor", detach=True, network=network,
                    environment={"HOME": "/tmp", "LABELGATE_REPOSITORY_TOKEN": "rehearsal-token"},
                    read_only=True, tmpfs={"/tmp": ""})
                try:
                    predictor.reload()
                    address = predictor.attrs["NetworkSettings"]["Networks"][network]["IPAddress"]
                    base = f"http://{address}:8080"
                    _wait_ready(f"{base}/v2/health/ready", predictor)
                    v1 = _post(f"{base}/v1/models/{MODEL}:predict", {"instances": ["check out my channel!!", "nice song"]})
                    v2 = _post(f"{base}/v2/models/{MODEL}/infer", {"inputs": [
                        {"name": "text", "shape": [1], "datatype": "BYTES", "data": ["subscribe to my channel"]}]})
                    assert len(v1["predictions"]) == 2 and str(v1.get("model_version")) == "1", v1
                    assert v2["outputs"] and str(v2.get("model_version")) == "1", v2

                    # A second run the model gate blocks: nothing is pushed and the predictor keeps version 1,
                    # also after it re-resolves the champion.
                    t0 = time.monotonic()
                    second = run_local(pipeline_func=pipeline, image=pipeline_image, arguments={**arguments, "min_test_accuracy": 0.999, "min_test_f1": 0.999},
                                       runs_dir=tmp_path / "runs", run_id="blocked", runner="docker", docker=settings,
                                       echo=lambda line: None)
                    timings["blocked_run_s"] = round(time.monotonic() - t0, 1)
                    assert second.exit_code == EXIT_BLOCKED, (second.outcome, second.failure)
                    assert second.gates["model-gate"]["passed"] is False and second.pushed is None
                    _post(f"{base}/v2/repository/models/{MODEL}/load", {},
                          headers={"Authorization": "Bearer rehearsal-token"})
                    again = _post(f"{base}/v1/models/{MODEL}:predict", {"instances": ["nice song"]})
                    assert str(again.get("model_version")) == "1", again
                finally:
                    predictor.remove(force=True)

                sampler.done.set()
                sampler.join(timeout=5)
                registry.container.reload()
                state = registry.container.attrs["State"]
                # Defect 1: with the manifest's command the server stays within the manifest's limit, with room.
                assert state["Running"] and not state["OOMKilled"], state
                assert sampler.samples > 10
                limit_bytes = int(docker_memory(limit))
                measured = {"mlflow_rss_peak_mib": round(sampler.peak / 2**20, 1), "mlflow_limit": limit,
                            "mlflow_command": command, "samples": sampler.samples}
                assert sampler.peak * HEADROOM <= limit_bytes, measured
        finally:
            moto.stop()
    timings["rehearsal_s"] = round(time.monotonic() - started, 1)
    out = ROOT / "build" / "rehearsal.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({**measured, **timings}, indent=2))
