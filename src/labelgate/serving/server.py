"""Run KServe's ModelServer on a labelgate model: V1 and V2 endpoints, health, readiness, /metrics.

Additions to KServe's server, all on its own FastAPI app: a bound on the request body (413 before the
body is read in full), JSON errors for request-schema violations (400 instead of FastAPI's 422 list), a
listening host (KServe always binds 0.0.0.0; labelgate defaults to loopback), and a model repository
whose ``load`` re-resolves the champion, so ``POST /v2/repository/models/<name>/load`` serves a
promoted or rolled-back version without a restart.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from typing import Any

from labelgate.serving.loader import ModelSource, PredictorLoader
from labelgate.serving.model import TextClassifierModel
from labelgate.serving.settings import DEFAULT_HOST, DEFAULT_PORT, RequestLimits


class BodyLimitMiddleware:
    """Refuse request bodies over ``max_bytes`` with a 413 and a JSON error, reading no more than that.
    A POST without a content type (or curl's default form type) is read as JSON, unless it carries V2's
    binary-tensor header."""

    def __init__(self, app: Any, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        if scope.get("method") == "POST" and b"inference-header-content-length" not in headers and \
                headers.get(b"content-type", b"application/x-www-form-urlencoded") == b"application/x-www-form-urlencoded":
            kept = [(k, v) for k, v in scope.get("headers") or [] if k != b"content-type"]
            scope = {**scope, "headers": [*kept, (b"content-type", b"application/json")]}
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send, int(declared))
            return
        seen = 0
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.max_bytes:
                await self._refuse(send, seen)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        delivered = False

        async def replay() -> dict:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Any, size: int) -> None:
        _metrics()["rejected"].labels(reason="body_too_large").inc()
        payload = json.dumps(
            {"error": f"request body of {size}+ bytes is over the limit of {self.max_bytes} bytes; "
             "send fewer or shorter texts per request"}
        ).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]})
        await send({"type": "http.response.body", "body": payload})


@functools.cache
def _metrics() -> dict[str, Any]:
    """labelgate's Prometheus series beside KServe's own (created once per process, on first use)."""
    from prometheus_client import Counter, Gauge, Histogram

    return {
        "batch_requests": Histogram("labelgate_batch_requests", "requests served by one predictor call",
                                    buckets=(1, 2, 4, 8, 16, 32, 64, 128)),
        "batch_texts": Histogram("labelgate_batch_texts", "texts in one predictor call",
                                 buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256)),
        "texts": Counter("labelgate_texts_total", "texts classified", ["model"]),
        "rejected": Counter("labelgate_rejected_requests_total", "requests refused before inference", ["reason"]),
        "version": Gauge("labelgate_model_version_info", "the served model version (value 1)", ["model", "version"]),
    }


class MeteredModel(TextClassifierModel):
    """TextClassifierModel that also counts texts, refusals and the served version for /metrics."""

    def load(self) -> bool:
        ready = super().load()
        gauge = _metrics()["version"]
        gauge.clear()
        gauge.labels(model=self.name, version=str(self.version)).set(1)
        return ready

    def observe_batch(self, requests: int, texts: int) -> None:
        _metrics()["batch_requests"].observe(requests)
        _metrics()["batch_texts"].observe(texts)

    async def preprocess(self, payload, headers=None):  # type: ignore[override]
        from kserve.errors import InvalidInput

        try:
            batch = await super().preprocess(payload, headers)
        except InvalidInput:
            _metrics()["rejected"].labels(reason="invalid_input").inc()
            raise
        _metrics()["texts"].labels(model=self.name).inc(len(batch.texts))
        return batch


def _reloading_repository() -> Any:
    from kserve.model_repository import ModelRepository

    class ReloadingRepository(ModelRepository):
        """``load(name)`` reloads a registered model in place (the champion is resolved again)."""

        def load(self, name: str) -> bool:
            model = self.get_model(name)
            if model is None:
                from kserve.errors import ModelNotFound

                raise ModelNotFound(name)
            return model.load()

    return ReloadingRepository()


def _install_app_hooks(app: Any, limits: RequestLimits) -> None:
    """Body bound and JSON schema errors on KServe's FastAPI app (once per process)."""
    if getattr(app.state, "labelgate_hooks", False):
        return
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse

    async def schema_error(_request: Any, exc: RequestValidationError) -> JSONResponse:
        _metrics()["rejected"].labels(reason="schema").inc()
        problems = []
        for err in exc.errors():
            if err.get("type") == "json_invalid":
                problems = [f"the body is not valid JSON ({err.get('ctx', {}).get('error', 'decode error')})"]
                break
            loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "InferenceRequest")]
            if loc[:1] == ["bytes"]:
                continue  # KServe's raw-bytes alternative to a JSON request; not what the client meant
            problems.append(f"{'.'.join(loc) or 'body'}: {err.get('msg', 'invalid')}")
        message = "; ".join(problems) or "the body is not a V2 inference request"
        return JSONResponse(status_code=400, content={"error": f"invalid request: {message}"})

    app.add_exception_handler(RequestValidationError, schema_error)
    app.add_middleware(BodyLimitMiddleware, max_bytes=limits.max_body_bytes)
    app.state.labelgate_hooks = True


def build_model(*, name: str, source: ModelSource, loader: PredictorLoader,
                limits: RequestLimits) -> TextClassifierModel:
    """The served model, loaded (raises if the model directory or champion cannot be loaded)."""
    model = MeteredModel(name, source=source, loader=loader, limits=limits)
    model.load()
    return model


def run_server(*, model: TextClassifierModel, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
               access_log: bool = False) -> None:
    """Serve ``model`` with KServe's REST server until SIGINT/SIGTERM (blocks)."""
    from kserve import ModelServer
    from kserve.constants.constants import FASTAPI_APP_IMPORT_STRING
    from kserve.model_server import app
    from kserve.protocol.rest.server import RESTServer

    _install_app_hooks(app, model.limits)
    if not access_log:
        logging.getLogger("uvicorn.access").setLevel(logging.WARNING)

    class HostModelServer(ModelServer):
        def start(self, models: list) -> None:
            # ModelServer.start without gRPC and multiprocess, binding ``host`` instead of 0.0.0.0.
            self._register_and_check_atleast_one_model_is_ready(models)
            self._rest_server = RESTServer(
                FASTAPI_APP_IMPORT_STRING,
                self.dataplane,
                self.model_repository_extension,
                self.http_port,
                access_log_format=self.access_log_format,
                workers=1,
                grace_period=self.grace_period,
                event_loop=self.event_loop,
                timeout_keep_alive=self.timeout_keep_alive,
            )
            self._rest_server.config.host = host
            self.servers.append(self._rest_server.start())
            self.setup_event_loop()
            self.register_signal_handler()
            asyncio.run(self._serve())

    server = HostModelServer(
        http_port=port,
        enable_grpc=False,
        workers=1,
        registered_models=_reloading_repository(),
        enable_latency_logging=False,
        grace_period=5,
    )
    server.start([model])
