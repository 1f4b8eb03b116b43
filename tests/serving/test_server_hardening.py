"""The served model as an attacker and an operator meet it: the repository endpoints behind a token,
readiness that follows the model, one JSON error shape (binary V2 path, FastAPI's own errors, 404, 405),
requested and binary outputs, versions in metadata, every refusal counted, a quiet log."""

from __future__ import annotations

import json
import shutil
import struct
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import requests

from labelgate.training import load_predictor
from tests.serving.lg_running import RunningServer

TOKEN = "a-long-random-token"
TEXTS = ["free gift cards, click now", "what a beautiful song"]


def _infer_body(texts: list[str], **extra: object) -> dict:
    return {"inputs": [{"name": "text", "datatype": "BYTES", "shape": [len(texts)], "data": texts}], **extra}


def binary_request(elements: list[bytes], *, raw: bytes | None = None, **extra: object) -> tuple[bytes, dict]:
    """A V2 request with its BYTES input as binary data after the JSON header (``raw`` replaces the data)."""
    data = raw if raw is not None else b"".join(struct.pack("<I", len(e)) + e for e in elements)
    header = json.dumps({"inputs": [{"name": "text", "datatype": "BYTES", "shape": [len(elements)],
                                     "parameters": {"binary_data_size": len(data)}}], **extra}).encode()
    return header + data, {"Inference-Header-Content-Length": str(len(header)),
                           "Content-Type": "application/octet-stream"}


def read_binary_response(response: requests.Response) -> dict[str, object]:
    """Outputs of a V2 response with binary data: name -> list of labels or array of floats."""
    size = int(response.headers["inference-header-content-length"])
    head = json.loads(response.content[:size])
    offset, out = size, {}
    for output in head["outputs"]:
        params = output.get("parameters") or {}
        if "binary_data_size" not in params:
            out[output["name"]] = output["data"]
            continue
        raw = response.content[offset:offset + params["binary_data_size"]]
        offset += params["binary_data_size"]
        if output["datatype"] == "BYTES":
            labels, i = [], 0
            while i < len(raw):
                (n,) = struct.unpack_from("<I", raw, i)
                labels.append(raw[i + 4:i + 4 + n].decode())
                i += 4 + n
            out[output["name"]] = labels
        else:
            out[output["name"]] = np.frombuffer(raw, dtype="<f4").reshape(output["shape"])
    assert offset == len(response.content)
    return out


def assert_error(response: requests.Response, status: int, needle: str = "") -> None:
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert set(body) == {"error"} and needle in body["error"], body


@pytest.fixture
def admin_server(model_dirs: list[Path], tmp_path: Path) -> Iterator[tuple[RunningServer, Path]]:
    model_dir = shutil.copytree(model_dirs[0], tmp_path / "model")
    server = RunningServer(model_dir, tmp_path / "admin.log", env={"LABELGATE_REPOSITORY_TOKEN": TOKEN})
    yield server, model_dir
    server.stop()


@pytest.fixture(scope="module")
def server(model_dirs: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = RunningServer(model_dirs[0], tmp_path_factory.mktemp("plain") / "server.log")
    yield running
    running.stop()


def test_repository_endpoints_need_the_token_and_readiness_follows_the_model(
        admin_server: tuple[RunningServer, Path]) -> None:
    server, model_dir = admin_server
    unload, load = "/v2/repository/models/spam/unload", "/v2/repository/models/spam/load"
    assert_error(server.post(unload), 401, "Bearer")
    assert server.post(unload).headers["www-authenticate"].startswith("Bearer")
    assert_error(server.post(unload, headers={"Authorization": "Bearer wrong"}), 403, "not this server's")
    assert_error(server.post(unload, headers={"Authorization": TOKEN}), 401)
    # A cross-origin form POST (no preflight, no Authorization header) cannot unload either.
    assert_error(server.post(unload, data="x=1", headers={"Content-Type": "text/plain", "Origin": "http://evil"}), 401)
    assert server.get("/v2/health/ready").status_code == 200

    admin = {"Authorization": f"Bearer {TOKEN}"}
    assert server.post(unload, headers=admin).status_code == 200
    for path in ("/v2/health/ready", "/v2/models/spam/ready", "/v1/models/spam"):
        assert_error(server.get(path), 503, "not ready")
    assert_error(server.post("/v1/models/spam:predict", json={"instances": ["a"]}), 503)
    assert server.get("/v2/health/live").status_code == 200  # alive, only out of rotation

    # A load that fails leaves it unloaded and not ready; one that works brings it back.
    shutil.move(model_dir, model_dir.with_name("moved"))
    assert_error(server.post(load, headers=admin), 503, "stays unloaded")
    assert_error(server.get("/v2/health/ready"), 503)
    shutil.move(model_dir.with_name("moved"), model_dir)
    assert server.post(load, headers=admin).status_code == 200
    assert server.get("/v2/health/ready").json() == {"ready": True}
    assert server.post("/v1/models/spam:predict", json={"instances": TEXTS}).status_code == 200

    # A failed reload while a model is loaded keeps serving it, and readiness stays true.
    shutil.move(model_dir, model_dir.with_name("moved"))
    assert_error(server.post(load, headers=admin), 503, "still serves version local")
    assert server.get("/v2/health/ready").status_code == 200
    assert server.post("/v1/models/spam:predict", json={"instances": TEXTS}).status_code == 200
    assert server.metric("labelgate_rejected_requests_total", reason="unauthorized") == 4
    assert "Traceback" not in server.stop()


def test_repository_endpoints_are_off_without_a_token(server: RunningServer) -> None:
    for path in ("/v2/repository/models/spam/unload", "/v2/repository/models/spam/load", "/v2/repository/index"):
        assert_error(server.post(path, headers={"Authorization": "Bearer anything"}), 403, "LABELGATE_REPOSITORY_TOKEN")
    assert server.get("/v2/health/ready").status_code == 200


def test_requested_and_binary_outputs_follow_the_open_inference_protocol(
        server: RunningServer, model_dirs: list[Path]) -> None:
    expected = load_predictor(model_dirs[0]).predict_proba(TEXTS)
    labels = [["ham", "spam"][i] for i in expected.argmax(axis=1)]
    infer = "/v2/models/spam/infer"

    only_label = server.post(infer, json=_infer_body(TEXTS, outputs=[{"name": "label"}])).json()
    assert [o["name"] for o in only_label["outputs"]] == ["label"] and only_label["outputs"][0]["data"] == labels

    both_binary = read_binary_response(server.post(infer, json=_infer_body(TEXTS, parameters={"binary_data_output": True})))
    assert both_binary["label"] == labels
    np.testing.assert_allclose(both_binary["probabilities"], expected, atol=1e-6)

    mixed = server.post(infer, json=_infer_body(TEXTS, outputs=[
        {"name": "probabilities", "parameters": {"binary_data": True}}, {"name": "label"}]))
    assert mixed.headers["content-type"] == "application/octet-stream"
    got = read_binary_response(mixed)
    assert list(got) == ["probabilities", "label"] and got["label"] == labels
    np.testing.assert_allclose(got["probabilities"], expected, atol=1e-6)

    # Binary input too: what tritonclient sends with binary_data=True.
    body, headers = binary_request([t.encode() for t in TEXTS], outputs=[{"name": "probabilities"}])
    answer = server.post(infer, data=body, headers=headers)
    assert answer.status_code == 200, answer.text
    np.testing.assert_allclose(np.reshape(answer.json()["outputs"][0]["data"], (2, 2)), expected, atol=1e-6)

    assert_error(server.post(infer, json=_infer_body(TEXTS, outputs=[{"name": "logits"}])), 400, 'unknown output "logits"')
    assert_error(server.post(infer, json=_infer_body(TEXTS, parameters={"binary_data_output": "yes"})), 400,
                 "binary_data_output")

    metadata = server.get("/v2/models/spam").json()
    assert metadata["versions"] == ["local"]
    assert server.get("/v2/models/spam/versions/local").json()["versions"] == ["local"]
    assert server.get("/v2/models/spam/versions/local/ready").json()["ready"] is True
    assert server.post("/v2/models/spam/versions/local/infer", json=_infer_body(TEXTS)).status_code == 200
    assert_error(server.post("/v2/models/spam/versions/7/infer", json=_infer_body(TEXTS)), 404, "serves version 'local'")


def test_every_client_error_is_a_counted_4xx_with_one_json_shape_and_no_traceback(server: RunningServer) -> None:
    before = {reason: server.metric("labelgate_rejected_requests_total", reason=reason)
              for reason in ("invalid_input", "schema", "method_not_allowed", "not_found", "model_not_found",
                             "body_too_large")}
    infer = "/v2/models/spam/infer"
    good = [b"a text", "caf\u00e9".encode()]
    body, headers = binary_request(good)
    invalid_input = [
        (body, {**headers, "Inference-Header-Content-Length": "12abc"}, "must be the JSON header's size"),
        (body, {**headers, "Inference-Header-Content-Length": "-3"}, "must be the JSON header's size"),
        (body, {**headers, "Inference-Header-Content-Length": str(len(body) + 9)}, "the body has"),
        (*binary_request([b"x"], raw=struct.pack("<I", 100) + b"abc"), "declares 100 bytes but only 3 remain"),
        (*binary_request([b"x"], raw=b"\x01\x00"), "length prefix"),
        (*binary_request([b"\xff\xfe"]), "is not valid UTF-8"),
        (body[:-2], {**headers}, "remain in the body"),
        (body + b"extra", {**headers}, "bytes after the inputs"),
        (b"{not json" + body, {**headers, "Inference-Header-Content-Length": "9"}, "not valid JSON"),
    ]
    for data, hdrs, needle in invalid_input:
        assert_error(server.post(infer, data=data, headers=hdrs), 400, needle)
    assert_error(server.post("/v1/models/spam:predict", json={"instances": [7]}), 400, "must be a string")
    assert_error(server.post(infer, json={"inputs": "nope"}), 400, "invalid request")  # FastAPI's schema errors

    assert_error(server.get("/v1/models/spam:predict"), 405, "use POST")
    assert server.get(infer).headers["allow"] == "POST"
    assert_error(server.get(infer), 405)
    assert_error(server.post("/v2/health/ready"), 405, "use GET")
    assert_error(server.get("/no/such/path"), 404, "no such endpoint")
    assert_error(server.post("/v1/models/other:predict", json={"instances": ["a"]}), 404, "other")
    assert_error(server.post("/v1/models/spam:predict", data=b"x" * (5 * 2**20)), 413, "over the limit")

    after = {reason: server.metric("labelgate_rejected_requests_total", reason=reason) for reason in before}
    assert {reason: after[reason] - before[reason] for reason in before} == {
        "invalid_input": len(invalid_input) + 1, "schema": 1, "method_not_allowed": 4, "not_found": 1,
        "model_not_found": 1, "body_too_large": 1}
    log = server.log.read_text()
    assert "Traceback" not in log and "Exception" not in log
    assert "POST /v2/models/spam/infer" not in log and "kserve.trace" not in log  # no access log by default
    assert server.get("/v2/health/ready").status_code == 200


def test_an_unknown_model_name_is_a_404_naming_the_served_models(server: RunningServer) -> None:
    """It said only "Model with name spma does not exist."; now it also says which model to call and how."""
    for response in (server.post("/v1/models/spma:predict", json={"instances": ["a"]}),
                     server.post("/v2/models/Spam/infer", json=_infer_body(["a"]))):
        assert_error(response, 404, "This server serves ['spam']: use /v1/models/<name>:predict")
