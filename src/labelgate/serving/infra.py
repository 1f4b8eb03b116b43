"""Infra-validation (TFX InfraValidator's idea): prove a candidate loads and answers before it is pushed.

The real server (`python -m labelgate.serving`) starts on the candidate in a subprocess on a free
loopback port; once ready it gets V1 and V2 smoke requests (a batch and a single text) and one bad
request. The answers must be well-formed, agree with the predictor's offline probabilities, and the
server must stay up after the bad request.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from labelgate.errors import ServingError
from labelgate.serving.loader import DEFAULT_LOADER, ModelSource, load_model
from labelgate.serving.process import start_child, stop_child

SMOKE_TEXTS: tuple[str, ...] = (
    "Check out my channel for free gift cards!!! http://example.com",
    "This song brings back so many memories, love it",
    "subscribe to me please, I will subscribe back",
    "",
    "Ünïcödé ✓ émojis 🎶 and 中文",
    "a" * 2000,
    "   ",
    "Great video. 10/10 would watch again.",
)


@dataclass(frozen=True)
class InfraReport:
    """What the infra-validation saw; stored with the pushed version."""

    passed: bool
    startup_s: float
    requests: int
    texts: int
    max_abs_diff: float
    bad_request_status: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def free_port() -> int:
    """A TCP port free on the loopback interface right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def wait_ready(*, url: str, proc: subprocess.Popen, timeout_s: float, log_path: Path) -> float:
    """Poll ``url`` until it answers 200; fail early if the server process exits. Returns seconds waited."""
    import requests

    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        if proc.poll() is not None:
            raise ServingError(
                f"the model server exited with code {proc.returncode} before it was ready; its log:\n{_tail(log_path)}"
            )
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return time.monotonic() - start
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise ServingError(f"the model server was not ready at {url} within {timeout_s:.0f}s; its log:\n{_tail(log_path)}")


def _post(url: str, payload: dict) -> tuple[int, Any]:
    import requests

    try:
        response = requests.post(url, json=payload, timeout=30)
    except requests.RequestException as exc:
        raise ServingError(f"POST {url} failed: {exc}") from exc
    try:
        body = response.json()
    except ValueError:
        body = response.text
    return response.status_code, body


def _check_v1(body: Any, classes: list[str], n: int) -> np.ndarray:
    if not isinstance(body, dict) or not isinstance(body.get("predictions"), list):
        raise ServingError(f"V1 answer lacks a 'predictions' list: {str(body)[:300]}")
    preds = body["predictions"]
    if len(preds) != n:
        raise ServingError(f"V1 answer holds {len(preds)} predictions for {n} texts")
    rows = []
    for i, pred in enumerate(preds):
        probs = pred.get("probabilities") if isinstance(pred, dict) else None
        if not isinstance(probs, dict) or sorted(probs) != sorted(classes) or pred.get("label") not in classes:
            raise ServingError(f"V1 prediction {i} is malformed: {str(pred)[:300]}")
        row = [float(probs[c]) for c in classes]
        if classes[int(np.argmax(row))] != pred["label"]:
            raise ServingError(f"V1 prediction {i}: label {pred['label']!r} is not the most probable class")
        rows.append(row)
    return np.asarray(rows)


def _check_v2(body: Any, classes: list[str], n: int) -> np.ndarray:
    outputs = {o.get("name"): o for o in body.get("outputs", [])} if isinstance(body, dict) else {}
    labels, probs = outputs.get("label"), outputs.get("probabilities")
    if labels is None or probs is None:
        raise ServingError(f"V2 answer lacks 'label' and 'probabilities' outputs: {str(body)[:300]}")
    if probs.get("shape") != [n, len(classes)] or len(probs.get("data", [])) != n * len(classes):
        raise ServingError(f"V2 probabilities have shape {probs.get('shape')}, expected {[n, len(classes)]}")
    matrix = np.asarray(probs["data"], dtype=np.float64).reshape(n, len(classes))
    if list(labels.get("data", [])) != [classes[i] for i in matrix.argmax(axis=1)]:
        raise ServingError("V2 labels do not match the most probable classes")
    return matrix


def check_answers(*, base_url: str, model_name: str, texts: Sequence[str], expected: np.ndarray,
                  classes: list[str], atol: float) -> tuple[int, float]:
    """Send V1/V2 smoke requests and compare with ``expected``; returns (requests sent, max |diff|)."""
    texts = list(texts)
    worst = 0.0
    sent = 0
    v1_url = f"{base_url}/v1/models/{model_name}:predict"
    v2_url = f"{base_url}/v2/models/{model_name}/infer"
    for batch, want in ((texts, expected), (texts[:1], expected[:1])):
        status, body = _post(v1_url, {"instances": batch})
        sent += 1
        if status != 200:
            raise ServingError(f"V1 smoke request got HTTP {status}: {str(body)[:300]}")
        worst = max(worst, float(np.abs(_check_v1(body, classes, len(batch)) - want).max()))
        status, body = _post(
            v2_url, {"inputs": [{"name": "text", "datatype": "BYTES", "shape": [len(batch)], "data": batch}]}
        )
        sent += 1
        if status != 200:
            raise ServingError(f"V2 smoke request got HTTP {status}: {str(body)[:300]}")
        worst = max(worst, float(np.abs(_check_v2(body, classes, len(batch)) - want).max()))
    if worst > atol:
        raise ServingError(
            f"served probabilities differ from the offline predictions by up to {worst:.2e} (tolerance {atol:.0e}); "
            "the served model is not the model that was evaluated"
        )
    return sent, worst


def infra_validate(*, model_dir: str | Path, model_name: str, loader: str = DEFAULT_LOADER,
                   smoke_texts: Sequence[str] = SMOKE_TEXTS, startup_timeout_s: float = 120.0,
                   atol: float = 1e-5) -> InfraReport:
    """Start the server on ``model_dir`` in a subprocess and check it (see the module docstring);
    raises ServingError naming the failed check. ``loader`` is a ``module:function`` spec because the
    server subprocess imports it too."""
    model_dir = Path(model_dir)
    try:
        loaded = load_model(ModelSource(model_dir=model_dir), loader)
        expected = np.asarray(loaded.predictor.predict_proba(list(smoke_texts)), dtype=np.float64)
        classes = loaded.classes
    except ServingError:
        raise
    except Exception as exc:
        raise ServingError(f"the candidate model at {model_dir} does not load or predict offline: {exc}") from exc

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log_file = tempfile.NamedTemporaryFile(prefix="labelgate-infra-", suffix=".log", delete=False)
    log_path = Path(log_file.name)
    command = [sys.executable, "-m", "labelgate.serving", "--model-dir", str(model_dir), "--model-name", model_name,
               "--host", "127.0.0.1", "--port", str(port), "--loader", loader]
    # its own process group, killed with this process however it dies (labelgate.serving.process)
    proc = start_child(command, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        startup = wait_ready(url=f"{base_url}/v2/models/{model_name}/ready", proc=proc,
                             timeout_s=startup_timeout_s, log_path=log_path)
        sent, worst = check_answers(base_url=base_url, model_name=model_name, texts=smoke_texts,
                                    expected=expected, classes=classes, atol=atol)
        status, body = _post(f"{base_url}/v1/models/{model_name}:predict", {"instance": ["wrong field name"]})
        sent += 1
        if not (400 <= status < 500) or not isinstance(body, dict) or "error" not in body:
            raise ServingError(f"a malformed request got HTTP {status} {str(body)[:200]}; expected a 4xx JSON error")
        import requests

        if requests.get(f"{base_url}/v2/health/ready", timeout=5).status_code != 200:
            raise ServingError("the server was not ready any more after a malformed request")
        return InfraReport(passed=True, startup_s=round(startup, 3), requests=sent,
                           texts=2 * (len(smoke_texts) + 1), max_abs_diff=worst, bad_request_status=status)
    finally:
        stop_child(proc)
        log_file.close()
        log_path.unlink(missing_ok=True)
