"""Serving benchmark: requests/s and p50/p99 latency of `labelgate serve` against KServe's own floor.

Both servers are the same KServe ModelServer (same host binding, limits and middleware); one serves the
labelgate predictor, the other a kserve.Model that returns a constant answer of the same shape without
reading the texts. The ratio is the cost of our model (parsing, featurising, predicting, formatting).
The load generator is a minimal keep-alive HTTP/1.1 client on asyncio streams (cheaper per request than
any client library, so on a small machine it steals less CPU from the server under test), on loopback.
Each cell runs a bounded time and count. Model: --model-dir, else the local registry's champion, else a
quickly trained model on the example data.

Then health and one-text predict latency while four maximum-size requests (256 texts of 15,000 characters,
3.8 MB, within the default limits) are in flight the whole time, against the same probes on the idle
server in the same run (the anchor). ``--python`` runs another checkout's server (its interpreter) to
compare before and after a change.

    .venv/bin/python bench/serving.py [--seconds 3] [--model-dir DIR] [--python OTHER/.venv/bin/python]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MODEL_NAME = "spam"
CONCURRENCY = (1, 8, 32)
BATCHES = (1, 32)
LARGE_TEXTS, LARGE_CHARS, LARGE_IN_FLIGHT = 256, 15_000, 4


def constant_server(port: int) -> None:
    """Run KServe's ModelServer with a model that answers every request with a constant (in this process)."""
    import kserve

    from labelgate.serving.server import run_server
    from labelgate.serving.settings import RequestLimits

    class ConstantModel(kserve.Model):
        limits = RequestLimits()

        def __init__(self) -> None:
            super().__init__(MODEL_NAME)
            self.ready = True
            self.answer = {"label": "ham", "probabilities": {"ham": 0.9, "spam": 0.1}}

        def predict(self, payload, headers=None):  # type: ignore[override]
            n = len(payload["instances"]) if isinstance(payload, dict) else 1
            return {"predictions": [self.answer] * n}

    run_server(model=ConstantModel(), host="127.0.0.1", port=port)


def pick_model_dir(model_dir: str | None, workdir: Path) -> tuple[Path, str]:
    if model_dir:
        return Path(model_dir), f"--model-dir {model_dir}"
    from labelgate.registry import champion_model_dir

    db = ROOT / "mlruns" / "mlflow.db"
    if db.exists():
        found = champion_model_dir(f"sqlite:///{db}", "youtube-spam")
        if found is not None:
            return found, "the local registry's champion (youtube-spam)"
    import pandas as pd

    from labelgate.training.settings import TrainingSettings
    from labelgate.training.trainer import train_classifier

    frames = [pd.read_csv(p) for p in sorted((ROOT.parent / "shared" / "data" / "youtube-spam").glob("*.csv"))]
    data = pd.concat(frames)
    texts, labels = data["CONTENT"].astype(str).tolist(), data["CLASS"].to_numpy()
    result = train_classifier(train_texts=texts, train_targets=np.eye(2, dtype=np.float32)[labels],
                              valid_texts=texts[:200], valid_labels=labels[:200], classes=["ham", "spam"],
                              settings=TrainingSettings(family="hashed_linear", epochs=3, device="cpu"), seed=0)
    return result.predictor.save(workdir / "model"), "a model trained for this bench (3 epochs, default features)"


def sample_texts() -> list[str]:
    path = ROOT.parent / "shared" / "data" / "youtube-spam" / "Youtube05-Shakira.csv"
    if path.exists():
        import pandas as pd

        return pd.read_csv(path)["CONTENT"].astype(str).tolist()
    return [f"check out my channel {i}, it has great music videos" for i in range(400)]


def large_texts(seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    words = np.array(["check", "out", "my", "channel", "free", "gift", "song", "love", "video", "great", "subscribe"])
    return [" ".join(f"{w}{n}" for w, n in zip(rng.choice(words, 3000), rng.integers(0, 999, 3000), strict=True))
            [:LARGE_CHARS] for _ in range(LARGE_TEXTS)]


def health_bytes(port: int) -> bytes:
    return f"GET /v2/health/ready HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> bytes:
    writer.write(request)
    return await _read_response(reader)


async def _read_response(reader: asyncio.StreamReader) -> bytes:
    """Read one HTTP/1.1 response (headers and a Content-Length body); returns its status line."""
    status = await reader.readline()
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    await reader.readexactly(length)
    return status


async def _keep_busy(port: int, request: bytes, started: asyncio.Event) -> None:
    """Send ``request`` again and again on one connection (cancelled when the probes are done)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while True:
            writer.write(request)
            await writer.drain()
            started.set()
            status = await _read_response(reader)
            if not status.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"a large request failed: {status!r}")
    finally:
        writer.close()


async def _probe(port: int, probes: dict[str, bytes], seconds: float, max_rounds: int) -> dict[str, list[float]]:
    """Alternate the probes on their own connections for ``seconds`` (at least one round); latencies in ms."""
    connections = {name: await asyncio.open_connection("127.0.0.1", port) for name in probes}
    out: dict[str, list[float]] = {name: [] for name in probes}
    deadline = time.perf_counter() + seconds
    try:
        for _ in range(max_rounds):
            for name, request in probes.items():
                start = time.perf_counter()
                status = await _exchange(*connections[name], request)
                out[name].append((time.perf_counter() - start) * 1000)
                if not status.startswith(b"HTTP/1.1 200"):
                    raise RuntimeError(f"probe {name} failed: {status!r}")
            if time.perf_counter() > deadline:
                break
            await asyncio.sleep(0.02)
    finally:
        for _, writer in connections.values():
            writer.close()
    return out


async def _under_load(port: int, probes: dict[str, bytes], seconds: float) -> dict[str, list[float]]:
    large = [request_bytes(port, large_texts(seed)) for seed in range(LARGE_IN_FLIGHT)]
    started = [asyncio.Event() for _ in large]
    busy = [asyncio.create_task(_keep_busy(port, body, event)) for body, event in zip(large, started, strict=True)]
    await asyncio.gather(*(event.wait() for event in started))
    await asyncio.sleep(0.5)  # the server has read the bodies and is predicting
    try:
        return await _probe(port, probes, seconds, max_rounds=10_000)
    finally:
        for task in busy:
            task.cancel()
        await asyncio.gather(*busy, return_exceptions=True)


def measure_under_load(port: int, texts: list[str], seconds: float) -> dict[str, dict[str, list[float]]]:
    """Health and one-text predict latency: idle (the anchor), then with large requests in flight."""
    probes = {"health": health_bytes(port), "predict 1 text": request_bytes(port, texts[:1])}
    idle = asyncio.run(_probe(port, probes, seconds, max_rounds=2_000))
    loaded = asyncio.run(_under_load(port, probes, seconds))
    return {"idle": idle, "loaded": loaded}


def request_bytes(port: int, texts: list[str]) -> bytes:
    body = json.dumps({"instances": texts}).encode()
    head = (f"POST /v1/models/{MODEL_NAME}:predict HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    return head + body


async def _worker(port: int, requests: list[bytes], deadline: float, budget: list[int],
                  latencies: list[float], errors: list[str]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    i = 0
    try:
        while time.perf_counter() < deadline and budget[0] > 0:
            budget[0] -= 1
            start = time.perf_counter()
            writer.write(requests[i % len(requests)])
            i += 1
            status = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - start)
            if not status.startswith(b"HTTP/1.1 200"):
                errors.append(status.decode().strip())
    finally:
        writer.close()


async def _load(port: int, requests: list[bytes], concurrency: int, seconds: float, max_requests: int) -> dict:
    latencies: list[float] = []
    errors: list[str] = []
    budget = [max_requests]
    start = time.perf_counter()
    await asyncio.gather(*(_worker(port, requests, start + seconds, budget, latencies, errors)
                           for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    ms = np.array(latencies) * 1000
    return {"rps": len(latencies) / elapsed, "p50": float(np.percentile(ms, 50)), "p99": float(np.percentile(ms, 99)),
            "n": len(latencies), "errors": len(errors)}


def measure(port: int, texts: list[str], batch: int, concurrency: int, seconds: float, max_requests: int) -> dict:
    requests = [request_bytes(port, texts[i:i + batch]) for i in range(0, len(texts) - batch, max(batch, 7))][:64]
    asyncio.run(_load(port, requests, concurrency, min(0.3, seconds), 100))  # warm-up
    return asyncio.run(_load(port, requests, concurrency, seconds, max_requests))


def measure_interleaved(ports: dict[str, int], texts: list[str], batch: int, concurrency: int, seconds: float,
                        max_requests: int, rounds: int = 3) -> dict[str, dict]:
    """Alternate the servers in short rounds so that load from other processes hits them alike; report
    the median round's throughput and the percentiles over all rounds' latencies."""
    runs: dict[str, list[dict]] = {name: [] for name in ports}
    for _ in range(rounds):
        for name, port in ports.items():
            runs[name].append(measure(port, texts, batch, concurrency, seconds / rounds, max_requests // rounds))
    out = {}
    for name, cells in runs.items():
        out[name] = {"rps": float(np.median([c["rps"] for c in cells])),
                     "p50": float(np.median([c["p50"] for c in cells])),
                     "p99": float(np.median([c["p99"] for c in cells])),
                     "errors": sum(c["errors"] for c in cells)}
    return out


def start(command: list[str], port: int, log: Path) -> subprocess.Popen:
    from labelgate.serving.infra import wait_ready

    with log.open("w") as fh:
        proc = subprocess.Popen(command, stdout=fh, stderr=subprocess.STDOUT, cwd=ROOT)
    wait_ready(url=f"http://127.0.0.1:{port}/v2/models/{MODEL_NAME}/ready", proc=proc, timeout_s=120, log_path=log)
    return proc


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="duration of each cell (bounded)")
    parser.add_argument("--max-requests", type=int, default=20_000, help="most requests per cell")
    parser.add_argument("--model-dir", default=None)
    parser.add_argument("--python", default=sys.executable,
                        help="interpreter whose labelgate serves (another checkout's, to compare before/after)")
    parser.add_argument("--only-load", action="store_true", help="skip the throughput cells")
    parser.add_argument("--constant-server", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.constant_server is not None:
        constant_server(args.constant_server)
        return 0

    from labelgate.serving.infra import free_port

    workdir = Path(tempfile.mkdtemp(prefix="labelgate-bench-serving-"))
    model_dir, where = pick_model_dir(args.model_dir, workdir)
    texts = sample_texts()
    ours_port, floor_port = free_port(), free_port()
    serve = [args.python, "-m", "labelgate.serving", "--model-dir", str(model_dir), "--model-name", MODEL_NAME]
    ports = {"labelgate": ours_port, "constant": floor_port}
    servers = {
        "labelgate": start([*serve, "--port", str(ours_port)], ours_port, workdir / "ours.log"),
        "constant": start([sys.executable, __file__, "--constant-server", str(floor_port)], floor_port,
                          workdir / "constant.log"),
    }
    print(f"model: {where}; server: {args.python}; {len(texts)} distinct texts; per cell {args.seconds:.0f} s per "
          f"server in 3 interleaved rounds, at most {args.max_requests} requests")
    print("labelgate = `labelgate serve`; constant = a kserve.Model returning a constant (KServe's floor)")
    print(f"{'batch':>5} {'conc':>4} | {'labelgate rps':>13} {'p50 ms':>7} {'p99 ms':>7} | "
          f"{'constant rps':>12} {'p50 ms':>7} {'p99 ms':>7} | {'floor/ours':>10} {'p50 ratio':>9}")
    worst_single = 0.0
    try:
        for batch in BATCHES if not args.only_load else ():
            for concurrency in CONCURRENCY:
                cells = measure_interleaved(ports, texts, batch, concurrency, args.seconds, args.max_requests)
                ours, floor = cells["labelgate"], cells["constant"]
                errors = ours["errors"] + floor["errors"]
                ratio = floor["rps"] / ours["rps"]
                if batch == 1:
                    worst_single = max(worst_single, ratio)
                print(f"{batch:>5} {concurrency:>4} | {ours['rps']:>13.0f} {ours['p50']:>7.2f} {ours['p99']:>7.2f} | "
                      f"{floor['rps']:>12.0f} {floor['p50']:>7.2f} {floor['p99']:>7.2f} | "
                      f"{ratio:>9.2f}x {ours['p50'] / floor['p50']:>8.2f}x" + (f"  ({errors} errors)" if errors else ""),
                      flush=True)
        print(f"\nlatency while {LARGE_IN_FLIGHT} requests of {LARGE_TEXTS} texts x {LARGE_CHARS} characters are in "
              f"flight (labelgate), against the idle server in this run; {args.seconds:.0f} s per phase", flush=True)
        phases = measure_under_load(ours_port, texts, args.seconds)
        print(f"{'probe':>15} | {'idle p50':>8} {'p99 ms':>8} | {'loaded p50':>10} {'p99 ms':>8} {'max ms':>8} {'n':>4} | "
              f"{'p50 ratio':>9}")
        for name in phases["idle"]:
            idle, loaded = np.array(phases["idle"][name]), np.array(phases["loaded"][name])
            print(f"{name:>15} | {np.percentile(idle, 50):>8.2f} {np.percentile(idle, 99):>8.2f} | "
                  f"{np.percentile(loaded, 50):>10.2f} {np.percentile(loaded, 99):>8.2f} {loaded.max():>8.1f} "
                  f"{len(loaded):>4} | {np.percentile(loaded, 50) / np.percentile(idle, 50):>8.1f}x", flush=True)
    finally:
        for proc in servers.values():
            proc.terminate()
        for proc in servers.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:  # a server still busy with the large requests
                proc.kill()
                proc.wait()
    if args.only_load:
        return 0
    print(f"single texts: labelgate's throughput is within {worst_single:.2f}x of the constant-model floor "
          "(target: 2x). floor/ours = constant rps / labelgate rps; p50 ratio = labelgate p50 / constant p50")
    return 0


def encoder_latency(repeats: int = 50) -> int:
    """`bench/serving.py --encoder`: the predictor alone (no server), family minilm against hashed_linear
    trained in the same run on the same rows: load seconds, one-text p50/p99 and batch-of-32 texts/s, and
    the resident memory the encoder adds."""
    import resource

    import pandas as pd

    from labelgate.training import load_predictor
    from labelgate.training.settings import TrainingSettings
    from labelgate.training.trainer import train_classifier

    data = pd.read_csv(ROOT.parent / "shared" / "data" / "youtube-spam" / "Youtube01-Psy.csv")
    texts, labels = data["CONTENT"].astype(str).tolist()[:120], data["CLASS"].to_numpy()[:120]
    probe = sample_texts()
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for family in ("hashed_linear", "minilm"):
            settings = TrainingSettings(family=family, epochs=2, device="cpu")
            result = train_classifier(train_texts=texts, train_targets=np.eye(2, dtype=np.float32)[labels],
                                      valid_texts=texts[:40], valid_labels=labels[:40], classes=["ham", "spam"],
                                      settings=settings, seed=0)
            folder = result.predictor.save(Path(tmp) / family)
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            started = time.perf_counter()
            predictor = load_predictor(folder)
            predictor.predict_proba(probe[:1])  # the encoder's weights load on first use
            load_s = time.perf_counter() - started
            one, cpu = [], []
            for i in range(repeats):
                t0, c0 = time.perf_counter(), time.process_time()
                predictor.predict_proba([probe[i % len(probe)]])
                one.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0)
            t0 = time.perf_counter()
            predictor.predict_proba(probe[:32])
            rows[family] = {"load": load_s, "p50": np.median(one) * 1e3, "p99": np.percentile(one, 99) * 1e3,
                            "cpu": np.median(cpu) * 1e3, "batch": 32 / (time.perf_counter() - t0),
                            "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - rss_before}
    for family, r in rows.items():
        print(f"{family:>13}: load+first {r['load']:.2f} s, one text p50 {r['p50']:.2f} ms p99 {r['p99']:.2f} ms "
              f"(CPU {r['cpu']:.2f} ms), "
              f"batch of 32 {r['batch']:.0f} texts/s, peak RSS +{r['rss']:.0f} MiB")
    print(f"minilm/hashed_linear one-text p50: {rows['minilm']['p50'] / rows['hashed_linear']['p50']:.1f}x "
          f"(CPU time {rows['minilm']['cpu'] / max(rows['hashed_linear']['cpu'], 1e-6):.1f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(encoder_latency() if "--encoder" in sys.argv[1:] else main())
