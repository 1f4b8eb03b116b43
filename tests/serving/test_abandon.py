"""A request whose client hangs up before its answer begins is cancelled and counted; answers already under
way are finished; a stopping server still cancels what runs. As ASGI, then against the running server."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from pathlib import Path

import pytest

from labelgate.serving.server import AbandonMiddleware, _metrics
from tests.serving.lg_running import RunningServer


def _abandoned() -> float:
    return _metrics()["abandoned"]._value.get()


class _Connection:
    """The server side of one connection, as uvicorn's receive() behaves: the body, then nothing until the
    client leaves (``hang_up``) or the answer is complete, both read as http.disconnect."""

    def __init__(self, body: bytes = b"{}") -> None:
        self.messages = [{"type": "http.request", "body": body, "more_body": False}]
        self.closed = asyncio.Event()
        self.sent: list[dict] = []

    async def receive(self) -> dict:
        if self.messages:
            return self.messages.pop(0)
        await self.closed.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict) -> None:
        self.sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            self.closed.set()

    def hang_up(self) -> None:
        self.closed.set()


SCOPE = {"type": "http", "method": "POST", "path": "/v1/models/m:predict", "headers": []}


def test_a_client_that_leaves_while_its_request_runs_cancels_it() -> None:
    seen: dict = {}

    async def app(scope, receive, send) -> None:
        seen["body"] = (await receive())["body"]
        try:
            await asyncio.Event().wait()  # a long prediction
        except asyncio.CancelledError:
            seen["cancelled"] = True
            raise

    async def main() -> list[dict]:
        conn = _Connection(b'{"instances": ["x"]}')
        asyncio.get_running_loop().call_later(0.05, conn.hang_up)
        await asyncio.wait_for(AbandonMiddleware(app)(SCOPE, conn.receive, conn.send), timeout=30)
        return conn.sent

    before = _abandoned()
    assert asyncio.run(main()) == []  # nobody to answer
    assert seen == {"body": b'{"instances": ["x"]}', "cancelled": True}
    assert _abandoned() == before + 1


def test_an_answered_request_and_an_answer_under_way_are_not_cancelled() -> None:
    async def answers(scope, receive, send) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def streams_after_the_client_left(scope, receive, send) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"o", "more_body": True})
        await asyncio.sleep(0.1)  # the client leaves meanwhile
        await send({"type": "http.response.body", "body": b"k"})

    async def main(app, leave_after: float | None) -> list[dict]:
        conn = _Connection()
        if leave_after is not None:
            asyncio.get_running_loop().call_later(leave_after, conn.hang_up)
        await asyncio.wait_for(AbandonMiddleware(app)(SCOPE, conn.receive, conn.send), timeout=30)
        return conn.sent

    before = _abandoned()
    assert [m.get("body") for m in asyncio.run(main(answers, None))] == [None, b"ok"]
    assert [m.get("body") for m in asyncio.run(main(streams_after_the_client_left, 0.02))] == [None, b"o", b"k"]
    assert _abandoned() == before


def test_an_app_error_still_reaches_the_server_and_a_stopping_server_cancels_the_request() -> None:
    async def fails(scope, receive, send) -> None:
        await receive()
        raise ValueError("the app's own error")

    conn = _Connection()
    with pytest.raises(ValueError, match="the app's own error"):
        asyncio.run(AbandonMiddleware(fails)(SCOPE, conn.receive, conn.send))

    seen: dict = {}

    async def runs(scope, receive, send) -> None:
        await receive()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            seen["cancelled"] = True
            raise

    async def stop_server() -> None:
        conn = _Connection()
        request = asyncio.ensure_future(AbandonMiddleware(runs)(SCOPE, conn.receive, conn.send))
        await asyncio.sleep(0.05)
        request.cancel()
        with pytest.raises(asyncio.CancelledError):
            await request

    asyncio.run(stop_server())
    assert seen == {"cancelled": True}


HOSTILE = 24  # requests sent whole, then hung up on
TEXTS = 256  # the server's default max batch
TEXT_CHARS = 15_000  # 256 of them: 3.8 MB, under the default 4 MiB body limit


@pytest.mark.slow
def test_requests_hung_up_on_stop_using_the_server(model_dirs: list[Path], tmp_path: Path) -> None:
    """A client sends 24 full batches of long texts and closes each connection without waiting: the server drops
    their work (it predicted far fewer texts than were sent), counts them, and answers the next client."""
    server = RunningServer(model_dirs[0], tmp_path / "server.log", "--inference-threads", "1")
    try:
        words = ("subscribe to my channel and check out this video " * (TEXT_CHARS // 50 + 1))[:TEXT_CHARS]
        body = json.dumps({"instances": [f"{i} {words}" for i in range(TEXTS)]}).encode()
        head = (f"POST /v1/models/spam:predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        socks = []
        for _ in range(HOSTILE):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=60)
            sock.sendall(head + body)
            socks.append(sock)
        for sock in socks:  # gone before any answer: a close with unread data is a reset
            sock.close()
        for _ in range(600):
            if server.metric("labelgate_requests_in_progress", model="spam") == 0 and \
                    server.metric("labelgate_abandoned_requests_total") > 0:
                break
            time.sleep(0.1)
        predicted = server.metric("labelgate_batch_texts_sum")
        abandoned = server.metric("labelgate_abandoned_requests_total")
        assert abandoned >= HOSTILE // 2, (abandoned, predicted)
        assert predicted < HOSTILE * TEXTS / 2, (abandoned, predicted)
        print(f"abandoned {abandoned:.0f} of {HOSTILE} requests; predicted {predicted:.0f} of {HOSTILE * TEXTS} texts")
        answer = server.post("/v1/models/spam:predict", json={"instances": ["a good client"]})
        assert answer.status_code == 200 and len(answer.json()["predictions"]) == 1
    finally:
        log = server.stop()
    assert "Traceback" not in log, log[-3000:]
