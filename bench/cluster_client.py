"""labelgate's KFP client (labelgate.cluster.kfp_api, on kfp_server_api) against the anchor, kfp.Client.

Measured in one run, on this machine, against the local KFP v2beta1 stand-in of tests/cluster:
  1. time to report a KFP host that cannot serve: connection refused (wrong KFP_HOST), and HTTP 503 (a
     proxy in front of a KFP that is not up), what `make submit` costs a user or CI before the error,
  2. one submission round trip: upload a pipeline, find or create the experiment, create a run,
  3. cold start: a fresh interpreter importing the client and building it.
Prints each number and the ratio anchor / labelgate (above 1: labelgate is faster).
"""

# No `from __future__ import annotations`: KFP reads the component annotations as types.

import contextlib
import http.server
import io
import logging
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "cluster"))
warnings.filterwarnings("ignore")
logging.disable(logging.CRITICAL)  # kfp.Client logs a traceback per failed health check


def dead_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def small_package(folder: Path) -> Path:
    from kfp import compiler, dsl

    @dsl.component(base_image="python:3.11-slim")
    def echo(text: str) -> str:
        return text

    @dsl.pipeline(name="bench")
    def bench_pipeline(data_uri: str = "d"):
        echo(text=data_uri)

    path = folder / "bench.yaml"
    compiler.Compiler().compile(pipeline_func=bench_pipeline, package_path=str(path))
    return path


class _Unavailable(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        self.send_response(503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def failing_host(host: str, repeats: int, warm: bool = True) -> tuple[float, float]:
    """Median seconds until each client gives up on ``host`` (after an untimed warm-up call when ``warm``)."""
    from kfp import Client

    from labelgate.cluster.kfp_api import ClusterError, KfpApi

    def ours() -> None:
        try:
            KfpApi(host=host).healthz()
        except ClusterError:
            pass

    def anchor() -> None:
        try:
            Client(host=host)
        except Exception:  # urllib3's MaxRetryError, or TimeoutError after its health-check retries
            pass

    return _median(ours, repeats, warm), _median(anchor, repeats, warm)


def _median(fn, repeats: int, warm: bool = True) -> float:
    if warm:
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def unavailable() -> tuple[float, float]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Unavailable)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        return failing_host(f"http://127.0.0.1:{server.server_address[1]}", repeats=1, warm=False)
    finally:
        server.shutdown()


def round_trips(package: Path, repeats: int) -> tuple[float, float]:
    from kfp import Client
    from kfp_standin import KfpStandIn

    from labelgate.cluster import submit as sub
    from labelgate.cluster.kfp_api import KfpApi

    ours, anchor = [], []
    with KfpStandIn() as server:
        api = KfpApi(host=server.url)
        client = Client(host=server.url)
        for i in range(repeats):
            start = time.perf_counter()
            uploaded = sub.upload(api, package=package, pipeline_name=f"ours-{i}", version_name="v1")
            sub.start_run(api, uploaded=uploaded, experiment="bench", run_name="r", parameters={"data_uri": "x"},
                          service_account=None)
            ours.append(time.perf_counter() - start)

            start = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):  # kfp.Client prints links for each call
                _anchor_round_trip(client, package, i)
            anchor.append(time.perf_counter() - start)
    return statistics.median(ours), statistics.median(anchor)


def _anchor_round_trip(client, package: Path, i: int) -> None:
    """The same submission with kfp.Client: upload, newest version, experiment, run."""
    pipeline = client.upload_pipeline(str(package), pipeline_name=f"anchor-{i}")
    version = client.list_pipeline_versions(pipeline.pipeline_id, page_size=1,
                                            sort_by="created_at desc").pipeline_versions[0]
    try:
        experiment = client.get_experiment(experiment_name="bench-anchor")
    except ValueError:
        experiment = client.create_experiment("bench-anchor")
    client.run_pipeline(experiment_id=experiment.experiment_id, job_name="r", params={"data_uri": "x"},
                        pipeline_id=pipeline.pipeline_id, version_id=version.pipeline_version_id)


def cold_start(repeats: int) -> tuple[float, float]:
    ours_code = ("from labelgate.cluster.kfp_api import KfpApi; KfpApi(host='http://127.0.0.1:1')")
    anchor_code = "from kfp import Client"  # import only: building a kfp.Client already calls the host

    def timed(code: str) -> float:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    return timed(ours_code), timed(anchor_code)


def main() -> None:
    print("KFP client: labelgate.cluster.kfp_api vs kfp.Client (kfp 2.17), local v2beta1 stand-in")
    ours, anchor = failing_host(f"http://127.0.0.1:{dead_port()}", repeats=9)
    print(f"  refused connection reported   labelgate {ours * 1000:8.1f} ms   kfp.Client {anchor * 1000:8.1f} ms"
          f"   ratio {anchor / ours:8.1f}x  (median of 9)")
    ours, anchor = unavailable()
    print(f"  HTTP 503 health reported      labelgate {ours * 1000:8.1f} ms   kfp.Client {anchor * 1000:8.1f} ms"
          f"   ratio {anchor / ours:8.1f}x")
    with tempfile.TemporaryDirectory() as folder:
        package = small_package(Path(folder))
        ours, anchor = round_trips(package, repeats=15)
    print(f"  upload + experiment + run     labelgate {ours * 1000:8.1f} ms   kfp.Client {anchor * 1000:8.1f} ms"
          f"   ratio {anchor / ours:8.2f}x  (median of 15)")
    ours, anchor = cold_start(repeats=3)
    print(f"  cold start (import + build)   labelgate {ours * 1000:8.1f} ms   kfp SDK    {anchor * 1000:8.1f} ms"
          f"   ratio {anchor / ours:8.2f}x  (median of 3)")


if __name__ == "__main__":
    main()
