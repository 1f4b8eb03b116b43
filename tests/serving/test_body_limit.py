"""The request-body bound, as ASGI: declared and streamed (chunked) bodies, and the JSON default."""

from __future__ import annotations

import asyncio
import json

from labelgate.serving.server import BodyLimitMiddleware


def _run(headers: list[tuple[bytes, bytes]], chunks: list[bytes], max_bytes: int,
         disconnect: bool = False) -> tuple[list[dict], dict]:
    seen: dict = {}

    async def app(scope: dict, receive, send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        seen.update(body=body, headers=dict(scope["headers"]))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    messages = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1 or disconnect}
                for i, c in enumerate(chunks)] + ([{"type": "http.disconnect"}] if disconnect else [])
    sent: list[dict] = []

    async def receive() -> dict:
        return messages.pop(0)

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/v1/models/m:predict", "headers": headers}
    asyncio.run(BodyLimitMiddleware(app, max_bytes=max_bytes)(scope, receive, send))
    return sent, seen


def test_streamed_body_over_the_limit_is_refused_with_413_before_the_app_sees_it() -> None:
    sent, seen = _run([(b"content-type", b"application/json")], [b"x" * 60, b"x" * 60], max_bytes=100)
    assert sent[0]["status"] == 413 and not seen
    assert "over the limit of 100 bytes" in json.loads(sent[1]["body"])["error"]


def test_declared_length_over_the_limit_is_refused_without_reading() -> None:
    sent, seen = _run([(b"content-length", b"5000")], [b"{}"], max_bytes=100)
    assert sent[0]["status"] == 413 and not seen


def test_body_under_the_limit_reaches_the_app_whole_and_read_as_json() -> None:
    sent, seen = _run([], [b'{"instances": ', b'["a"]}'], max_bytes=100)
    assert sent[0]["status"] == 200
    assert seen["body"] == b'{"instances": ["a"]}'
    assert seen["headers"][b"content-type"] == b"application/json"
    _, binary = _run([(b"content-type", b"application/octet-stream"), (b"inference-header-content-length", b"2")],
                     [b"{}"], max_bytes=100)
    assert binary["headers"][b"content-type"] == b"application/octet-stream"


def test_a_client_that_leaves_mid_body_is_not_run_on_the_half_body() -> None:
    """The half body reached the app as if it were the whole request (and was predicted on, when it parsed)."""
    sent, seen = _run([(b"content-type", b"application/json")], [b'{"instances": ["a"]}', b"..."], max_bytes=100,
                      disconnect=True)
    assert sent == [] and not seen
