"""Connection deadlines for the model server, against slow and idle clients (slowloris).

uvicorn gives a connection all the time it wants to send its request: one that sends its headers a byte at
a time, or stops half-way through its body, holds a socket and a file descriptor forever, and some
thousands of them leave the server unable to accept anyone (``accept: Too many open files``).
:func:`deadline_protocol` wraps uvicorn's HTTP protocol class so that

- a request's headers must arrive within ``header_timeout_s`` of the connection opening (or of the first
  byte of a next request on a kept-alive connection), and its body within ``body_timeout_s`` after them;
  a client that is late gets ``408`` with a JSON error and the connection is closed;
- a request line and headers over ``max_header_bytes`` get ``431`` and the connection is closed (uvicorn reads
  any amount: a client sending a 50 MB header line had it held in memory);
- beyond ``max_connections`` open connections, the oldest ones still waiting for their request headers are
  closed, so new clients are always accepted (a good client sends its request at once and is never the
  oldest waiting one).

Nothing here reads the protocol's internals: the ASGI app the protocol calls marks "headers complete", the
app's ``receive``/``send`` mark "body complete" and "answered"; the head's size is counted on the bytes
received, from the parser's "message begins" to its "headers complete" (httptools' callbacks).
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from typing import Any

log = logging.getLogger("labelgate.serving")
_DRAIN_S = 2.0  # how long a refused connection's remaining bytes are read and dropped before it is closed


def _error_response(status: bytes, message: str) -> bytes:
    body = json.dumps({"error": message}).encode()
    return (b"HTTP/1.1 " + status + b"\r\ncontent-type: application/json\r\n"
            b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n" + body)


def deadline_protocol(base: type, *, header_timeout_s: float, body_timeout_s: float, max_connections: int,
                      max_header_bytes: int = 64 * 1024, on_refusal: Any = None) -> type:
    """A subclass of uvicorn's protocol class ``base`` with the deadlines and the connection bound above;
    ``on_refusal(reason)`` is called for each connection it closes (for the refusal counter)."""

    waiting: OrderedDict[int, Any] = OrderedDict()  # connections waiting for request headers, oldest first
    open_count = [0]  # open connections, less those being closed (their connection_lost comes later)

    def refuse(reason: str) -> None:
        if on_refusal is not None:
            try:
                on_refusal(reason)
            except Exception:  # noqa: BLE001 - counting must never break serving
                pass

    class DeadlineProtocol(base):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._lg_timer: Any = None
            self._lg_counted = False
            self._lg_waiting = True  # waiting for a request's headers
            self._lg_head = 0  # bytes of the request head received so far; None once its blank line came
            self._lg_tail = b""  # the last bytes received, to find a blank line split across reads
            self._lg_draining = False  # refused: dropping what still arrives until the connection closes
            self._lg_app = self.app
            self.app = self._lg_call

        # -- connection lifecycle ------------------------------------------------------------------
        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            open_count[0] += 1
            self._lg_counted = True
            self._lg_wait_for_headers()
            while open_count[0] > max_connections and waiting:
                _, oldest = waiting.popitem(last=False)
                if oldest is self:
                    waiting[id(self)] = self
                    break
                refuse("connection_shed")
                oldest._lg_close(None)

        def connection_lost(self, exc: Exception | None) -> None:
            self._lg_uncount()
            self._lg_cancel()
            waiting.pop(id(self), None)
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if self._lg_waiting and self._lg_timer is None:  # the first byte of a next request
                self._lg_arm(header_timeout_s, "the request headers did not arrive within "
                             f"{header_timeout_s:g} s; send the whole request at once")
                waiting[id(self)] = self
            if self._lg_draining:
                return
            if self._lg_head is not None and not self._lg_head_fits(data):
                refuse("headers_too_large")
                self._lg_refuse_and_drain(_error_response(
                    b"431 Request Header Fields Too Large", f"the request line and headers are over "
                    f"{max_header_bytes} bytes; send fewer or shorter headers"))
                return
            super().data_received(data)

        def _lg_refuse_and_drain(self, response: bytes) -> None:
            """Answer ``response`` and close, reading (and dropping) what the client still sends for a moment:
            closing a socket with unread data resets it, and the client would lose the answer."""
            self._lg_cancel()
            waiting.pop(id(self), None)
            transport = getattr(self, "transport", None)
            if transport is None or transport.is_closing():
                return
            self._lg_uncount()
            self._lg_draining = True
            transport.write(response)
            if transport.can_write_eof():
                transport.write_eof()
            self._lg_timer = self.loop.call_later(_DRAIN_S, transport.close)

        # The parser's marks of a request's start and of its head's end (httptools, uvicorn's default; its h11
        # protocol bounds a head itself, at 16 KiB, and never calls these). A request's body, read or not (a 413
        # answered before it arrives), is never counted as the next request's head.
        def on_message_begin(self) -> None:
            self._lg_head, self._lg_tail = 0, b""
            super().on_message_begin()

        def on_headers_complete(self) -> None:
            self._lg_head = None
            super().on_headers_complete()

        def _lg_head_fits(self, data: bytes) -> bool:
            """Count ``data`` toward the request head, up to the blank line that ends it; False when the head
            is over ``max_header_bytes``. A head that starts inside a read is counted from the next read on."""
            joined = self._lg_tail + data
            end = joined.find(b"\r\n\r\n")
            self._lg_head += (len(data) if end < 0 else end + 4 - len(self._lg_tail))
            self._lg_tail = joined[-3:]
            if self._lg_head > max_header_bytes:
                return False
            if end >= 0:
                self._lg_head = None
            return True

        def _lg_uncount(self) -> None:
            if self._lg_counted:
                self._lg_counted = False
                open_count[0] -= 1

        # -- deadlines -----------------------------------------------------------------------------
        def _lg_wait_for_headers(self) -> None:
            self._lg_waiting = True
            self._lg_arm(header_timeout_s, f"the request headers did not arrive within {header_timeout_s:g} s "
                                           "of connecting; send the whole request at once")
            waiting[id(self)] = self

        def _lg_arm(self, seconds: float, message: str) -> None:
            self._lg_cancel()
            self._lg_timer = self.loop.call_later(seconds, self._lg_close, message)

        def _lg_cancel(self) -> None:
            if self._lg_timer is not None:
                self._lg_timer.cancel()
                self._lg_timer = None

        def _lg_close(self, message: str | None) -> None:
            self._lg_timer = None
            waiting.pop(id(self), None)
            transport = getattr(self, "transport", None)
            if transport is None or transport.is_closing():
                return
            self._lg_uncount()
            if message is not None:
                refuse("request_timeout")
                transport.write(_error_response(b"408 Request Timeout", message))
            transport.close()

        # -- the ASGI side: headers complete, body complete, answered --------------------------------
        async def _lg_call(self, scope: dict, receive: Any, send: Any) -> None:
            self._lg_waiting = False
            waiting.pop(id(self), None)
            self._lg_arm(body_timeout_s, f"the request body did not arrive within {body_timeout_s:g} s "
                                         "after its headers; send the whole body at once")
            body_done = False

            async def timed_receive() -> dict:
                nonlocal body_done
                message = await receive()
                if not body_done and (message.get("type") != "http.request" or not message.get("more_body")):
                    body_done = True
                    self._lg_cancel()
                return message

            async def timed_send(message: dict) -> None:
                nonlocal body_done
                if message.get("type") == "http.response.start" and not body_done:
                    body_done = True  # answered before reading the body (404, 405, 413, ...)
                    self._lg_cancel()
                await send(message)
                if message.get("type") == "http.response.body" and not message.get("more_body"):
                    self._lg_waiting = True  # the next request's first byte arms its header deadline
                    waiting[id(self)] = self  # idle and kept alive: may be closed for a new client

            await self._lg_app(scope, timed_receive, timed_send)

    DeadlineProtocol.__name__ = DeadlineProtocol.__qualname__ = f"Deadline{base.__name__}"
    return DeadlineProtocol
