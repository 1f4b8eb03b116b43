"""Serving settings that the command line needs without importing KServe (``labelgate --help`` stays fast)."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_PORT = 8080
DEFAULT_HOST = "127.0.0.1"


@dataclass(frozen=True)
class RequestLimits:
    """What one request may carry; anything larger is refused, so one client cannot starve the rest."""

    max_batch: int = 256
    max_text_chars: int = 20_000
    max_body_bytes: int = 4 * 1024 * 1024
