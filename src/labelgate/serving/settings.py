"""Serving settings that the command line needs without importing KServe (``labelgate --help`` stays fast)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_PORT = 8080
DEFAULT_HOST = "127.0.0.1"
# The environment variable that enables the repository (load/unload) endpoints and holds their bearer token.
REPOSITORY_TOKEN_ENV = "LABELGATE_REPOSITORY_TOKEN"


class RequestLimits(BaseModel):
    """What one request may carry; anything larger is refused, so one client cannot starve the rest.
    Built from command-line flags (the config's ``serving`` section is accepted but not read yet)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    max_batch: int = Field(256, ge=1)
    max_text_chars: int = Field(20_000, ge=1)
    max_body_bytes: int = Field(4 * 1024 * 1024, ge=1)


class ConnectionLimits(BaseModel):
    """How long a client may take to send its request, and how many connections are kept open (see
    :mod:`labelgate.serving.connections`): headers within ``header_timeout_s``, the body within
    ``body_timeout_s`` after them (else 408), request line and headers of at most ``max_header_bytes`` (else 431),
    and beyond ``max_connections`` open connections the oldest ones waiting for a request are closed (None: half
    the process's open-file limit, at most 4096)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    header_timeout_s: float = Field(10.0, gt=0.0)
    body_timeout_s: float = Field(60.0, gt=0.0)
    max_connections: int | None = Field(None, ge=2)
    # The request line and headers together (uvicorn has no bound: a 50 MB header line was read whole).
    max_header_bytes: int = Field(64 * 1024, ge=1024)

    def connection_cap(self) -> int:
        """``max_connections``, or half the soft open-file limit (at most 4096, at least 64)."""
        if self.max_connections is not None:
            return self.max_connections
        try:
            import resource

            soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        except (ImportError, OSError, ValueError):
            return 1024
        if soft == resource.RLIM_INFINITY:
            return 4096
        return max(64, min(4096, soft // 2))


class InferenceLimits(BaseModel):
    """How predictions run: in a pool of ``threads`` beside the event loop (which keeps answering health
    and small requests), at most ``max_pending`` requests admitted at once (more get 503 with
    ``Retry-After: retry_after_s``), each predictor call at most ``chunk_texts`` texts and about
    ``chunk_chars`` characters, so a short request waits for one chunk, not for a whole large request.
    With two threads or more, one is kept for calls of at most ``express_chars`` characters: a short
    request does not even wait for a chunk of a large one."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    threads: int = Field(2, ge=1, le=64)
    max_pending: int = Field(32, ge=1)
    chunk_texts: int = Field(64, ge=1)
    chunk_chars: int = Field(20_000, ge=1)
    express_chars: int = Field(4_000, ge=1)
    retry_after_s: int = Field(1, ge=1)


class PredictionLogSettings(BaseModel):
    """The prediction log (see :mod:`labelgate.serving.prediction_log`): off while ``directory`` is None.
    ``sample`` is the fraction of texts logged; ``privacy="hash"`` stores a SHA-256 of each text instead of
    the text (``labelgate monitor`` then cannot run the LFs on traffic)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    directory: str | None = None
    sample: float = Field(1.0, ge=0.0, le=1.0)
    privacy: Literal["text", "hash"] = "text"
    max_mb: float = Field(256.0, gt=0.0)
    flush_rows: int = Field(1000, ge=1)
    flush_seconds: float = Field(10.0, gt=0.0)
    queue_size: int = Field(1000, ge=1)
