"""Serving settings that the command line needs without importing KServe (``labelgate --help`` stays fast)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_PORT = 8080
DEFAULT_HOST = "127.0.0.1"


class RequestLimits(BaseModel):
    """What one request may carry; anything larger is refused, so one client cannot starve the rest.
    Built from command-line flags (the config's ``serving`` section is accepted but not read yet)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    max_batch: int = Field(256, ge=1)
    max_text_chars: int = Field(20_000, ge=1)
    max_body_bytes: int = Field(4 * 1024 * 1024, ge=1)
