"""Slow and idle clients against the running server (slowloris): headers or a body that never arrive get a
408 with a JSON error and the connection closed, and beyond --max-connections the oldest connections
waiting for a request are closed, so a good client is still answered."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.serving.lg_running import RunningServer

PREDICT = "/v1/models/spam:predict"
MAX_CONNECTIONS = 20


@pytest.fixture(scope="module")
def server(model_dirs: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = RunningServer(model_dirs[0], tmp_path_factory.mktemp("deadlines") / "server.log",
                            "--header-timeout", "2", "--body-timeout", "2",
                            "--max-connections", str(MAX_CONNECTIONS))
    yield running
    assert "Traceback" not in running.stop()


def _connect(server: RunningServer, first_bytes: bytes = b"") -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=60)
    if first_bytes:
        sock.sendall(first_bytes)
    return sock


def _read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (a 60 s socket timeout raises)."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    sock.close()
    return data


def _error(answer: bytes) -> tuple[int, str]:
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)["error"]


def test_headers_sent_byte_by_byte_and_never_finished_get_408(server: RunningServer) -> None:
    sock = _connect(server, f"POST {PREDICT} HTTP/1.1\r\nHost: x\r\n".encode())
    for byte in b"X-Slow: 1\r\n":
        sock.sendall(bytes([byte]))
    status, error = _error(_read_all(sock))
    assert status == 408 and "request headers did not arrive within 2 s" in error
    assert server.post(PREDICT, json={"instances": ["a good client"]}).status_code == 200


def test_a_body_that_stops_half_way_gets_408(server: RunningServer) -> None:
    sock = _connect(server, f"POST {PREDICT} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                            "Content-Length: 1000\r\n\r\n".encode() + b'{"instances": ["half')
    status, error = _error(_read_all(sock))
    assert status == 408 and "request body did not arrive within 2 s" in error


def test_a_kept_alive_connection_whose_next_request_stalls_gets_408(server: RunningServer) -> None:
    body = b'{"instances": ["a song"]}'
    sock = _connect(server, f"POST {PREDICT} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
    first = sock.recv(65536)
    assert first.startswith(b"HTTP/1.1 200")
    sock.sendall(b"GET /v2/hea")
    status, error = _error(_read_all(sock))
    assert status == 408 and "request headers did not arrive" in error


def test_beyond_max_connections_the_oldest_idle_ones_are_closed_and_good_clients_answered(
        server: RunningServer) -> None:
    before = server.metric("labelgate_rejected_requests_total", reason="connection_shed")
    idle = [_connect(server) for _ in range(MAX_CONNECTIONS + 10)]
    assert server.post(PREDICT, json={"instances": ["a good client"]}).status_code == 200
    # The oldest were closed without an answer to make room; the newest wait for their header deadline (408).
    assert _read_all(idle[0]) == b""
    assert _error(_read_all(idle[-1]))[0] == 408
    for sock in idle[1:-1]:
        sock.close()
    assert server.metric("labelgate_rejected_requests_total", reason="connection_shed") - before >= 10
    assert server.metric("labelgate_rejected_requests_total", reason="request_timeout") >= 1
    assert server.get("/v2/health/ready").json() == {"ready": True}


def _request(body: bytes, header_bytes: int = 0) -> bytes:
    padding = f"X-Pad: {'a' * header_bytes}\r\n" if header_bytes else ""
    return (f"POST {PREDICT} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{padding}"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def _answer(sock: socket.socket) -> bytes:
    """One whole answer (headers and a content-length body) from a kept-alive connection."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")))
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def test_headers_over_the_limit_get_431_and_big_bodies_and_kept_alive_requests_do_not(server: RunningServer) -> None:
    """uvicorn reads request headers of any size (a 50 MB header line was held in memory); the head is bounded
    at --max-header-bytes (64 KiB), counted up to its blank line, so a 3 MB body sent with it does not count and
    each request on a kept-alive connection has its own bound."""
    before = server.metric("labelgate_rejected_requests_total", reason="headers_too_large")
    sock = _connect(server, _request(b'{"instances": ["a"]}', header_bytes=200_000))
    status, error = _error(_read_all(sock))
    assert status == 431 and error == ("the request line and headers are over 65536 bytes; send fewer or shorter "
                                       "headers")
    assert server.metric("labelgate_rejected_requests_total", reason="headers_too_large") == before + 1

    big = json.dumps({"instances": ["word " * 2_000] * 256}).encode()  # 2.6 MB, under the 4 MiB body limit
    sock = _connect(server, _request(big, header_bytes=60_000))
    answer = _answer(sock)
    assert answer.startswith(b"HTTP/1.1 200") and len(json.loads(answer.partition(b"\r\n\r\n")[2])["predictions"]) == 256
    for _ in range(3):  # 3 x 40 KB of headers on one connection: over the bound together, not each
        sock.sendall(_request(b'{"instances": ["a"]}', header_bytes=40_000))
        assert _answer(sock).startswith(b"HTTP/1.1 200")
    sock.close()
    assert server.metric("labelgate_rejected_requests_total", reason="headers_too_large") == before + 1
