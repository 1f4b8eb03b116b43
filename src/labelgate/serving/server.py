"""Run KServe's ModelServer on a labelgate model: V1 and V2 endpoints, health, readiness, /metrics.

Additions to KServe's server, all on its own FastAPI app:

- a guard in front of every route (:class:`GuardMiddleware`): the repository (load/unload) endpoints are
  off unless a token is configured, and then need ``Authorization: Bearer <token>``; a wrong method on an
  inference route is a 405; ``/versions/<v>/`` paths answer for the served version; every refusal is counted
  in ``labelgate_rejected_requests_total{reason}``;
- a bound on the request body (413 before the body is read in full);
- a request whose client hangs up before its answer begins is cancelled, its remaining texts dropped
  (:class:`AbandonMiddleware`);
- one error shape, ``{"error": "..."}``, for every error (FastAPI's ``{"detail": ...}`` included), and no
  traceback in the log for a client's mistake;
- readiness that is false whenever the model is not loaded (after an unload or a failed load), model
  metadata with the served version, strict parsing of V2 binary tensor data;
- a listening host (KServe always binds 0.0.0.0; labelgate defaults to loopback), and a model repository
  whose ``load`` re-resolves the champion (in a thread: serving goes on meanwhile), so
  ``POST /v2/repository/models/<name>/load`` serves a promoted or rolled-back version without a restart;
- the access log (and KServe's per-request timing lines) only with ``access_log=True``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hmac
import json
import logging
import re
from collections.abc import Callable
from typing import Any

from labelgate.serving.loader import ModelSource, PredictorLoader
from labelgate.serving.model import Overloaded, TextClassifierModel, json_error, parse_binary_request
from labelgate.serving.prediction_log import PredictionLog
from labelgate.serving.settings import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    REPOSITORY_TOKEN_ENV,
    ConnectionLimits,
    InferenceLimits,
    PredictionLogSettings,
    RequestLimits,
)

log = logging.getLogger("labelgate.serving")

# Where an exception handler leaves the reason of a refusal for GuardMiddleware to count (a dict in the
# ASGI scope: middlewares that copy the scope copy the reference).
REASON_KEY = "labelgate.refusal"
_STATUS_REASONS = {400: "invalid_input", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                   405: "method_not_allowed", 413: "body_too_large", 503: "unavailable"}


def _set_reason(scope: dict, reason: str) -> None:
    holder = scope.get(REASON_KEY)
    if isinstance(holder, dict):
        holder["reason"] = reason


async def _send_json(send: Any, status: int, message: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    payload = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                            *(headers or [])]})
    await send({"type": "http.response.body", "body": payload})


class BodyLimitMiddleware:
    """Refuse request bodies over ``max_bytes`` with a 413 and a JSON error, reading no more than that.
    A POST without a content type (or curl's default form type) is read as JSON, unless it carries V2's
    binary-tensor header (then it is read as binary data)."""

    def __init__(self, app: Any, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        if scope.get("method") == "POST" and \
                headers.get(b"content-type", b"application/x-www-form-urlencoded") == b"application/x-www-form-urlencoded":
            kind = b"application/octet-stream" if b"inference-header-content-length" in headers else b"application/json"
            kept = [(k, v) for k, v in scope.get("headers") or [] if k != b"content-type"]
            scope = {**scope, "headers": [*kept, (b"content-type", kind)]}
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, send, int(declared))
            return
        seen = 0
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client left mid-body: nothing to answer, nothing to run
                return
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.max_bytes:
                await self._refuse(scope, send, seen)
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

    async def _refuse(self, scope: dict, send: Any, size: int) -> None:
        _set_reason(scope, "body_too_large")
        await _send_json(send, 413, f"request body of {size}+ bytes is over the limit of {self.max_bytes} bytes; "
                                    "send fewer or shorter texts per request")


class AbandonMiddleware:
    """Stop the work of a request whose client left before its answer began (it closed the connection: a
    timed-out client, or one that sends large batches and hangs up). Without this the server went on
    predicting every text of it, holding its memory, while new clients waited; now the request's handling
    is cancelled, its texts not yet handed to the predictor are dropped (:meth:`TextClassifierModel.predict`),
    and it is counted in ``labelgate_abandoned_requests_total``. An answer already being sent is finished."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        left = asyncio.Event()  # the client closed the connection (or the answer is complete)
        watcher: asyncio.Task | None = None
        started = False

        async def watch() -> None:
            # After the whole body, the server's receive() returns only when the connection closes or the
            # answer is complete, both as http.disconnect.
            if (await receive())["type"] == "http.disconnect":
                left.set()

        async def watched_receive() -> dict:
            nonlocal watcher
            if watcher is not None:  # the body is read: the watcher owns receive() now
                await left.wait()
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request" and not message.get("more_body", False):
                watcher = asyncio.ensure_future(watch())
            return message

        async def tracking_send(message: dict) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        handling = asyncio.ensure_future(self.app(scope, watched_receive, tracking_send))
        gone = asyncio.ensure_future(left.wait())
        try:
            await asyncio.wait({handling, gone}, return_when=asyncio.FIRST_COMPLETED)
            if not handling.done() and not started:
                handling.cancel()
                _metrics()["abandoned"].inc()
                with contextlib.suppress(asyncio.CancelledError):
                    await handling
                return
            await handling  # done, or an answer already under way: finish it
        except asyncio.CancelledError:  # the server is stopping
            handling.cancel()
            raise
        finally:
            gone.cancel()
            if watcher is not None:
                watcher.cancel()


_POST_ONLY = re.compile(r"^/v1/models/[^/]+:predict$|^/v2/models/[^/]+/infer$|^/v2/repository/models/[^/]+/(load|unload)$")
_EXPLAIN = re.compile(r"^/v1/models/[^/]+:explain$")
_REPOSITORY = re.compile(r"^/v[12]/repository(/|$)")
_HEALTH = re.compile(r"^/v2/health/(live|ready)$|^/v2/models/[^/]+(/versions/[^/]+)?/ready$|^/v1/models/[^/:]+$")
_VERSIONED = re.compile(r"^/v2/models/([^/]+)/versions/([^/]+)(/ready|/infer)?$")


class GuardMiddleware:
    """In front of every route: repository endpoints off unless ``token`` is set (then a bearer token is
    needed), 405 for a wrong method on an inference route, ``/versions/<v>`` for the served version only,
    and the count of every refusal (4xx and 503) by reason."""

    def __init__(self, app: Any, token: str | None, served_version: Callable[[str], str | None | bool]):
        self.app = app
        self.token = token
        self.served_version = served_version  # model name -> its version; False when no such model

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        holder: dict[str, str] = {}
        scope = {**scope, REASON_KEY: holder}
        probe = scope.get("method") == "GET" and _HEALTH.match(scope.get("path", "")) is not None

        async def counting_send(message: dict) -> None:
            if message["type"] == "http.response.start":
                status = message["status"]
                if 400 <= status < 500 or (status == 503 and not probe):  # a not-ready probe refuses nothing
                    _metrics()["rejected"].labels(reason=holder.get("reason") or _STATUS_REASONS.get(
                        status, f"http_{status}")).inc()
                headers = list(message.get("headers") or [])
                names = {k.lower() for k, _ in headers}
                if b"inference-header-content-length" in names and b"content-type" not in names:
                    message = {**message, "headers": [*headers, (b"content-type", b"application/octet-stream")]}
            await send(message)

        refusal = self._refusal(scope)
        if refusal is not None:
            status, reason, text, headers = refusal
            holder["reason"] = reason
            await _send_json(counting_send, status, text, headers)
            return
        versioned = _VERSIONED.match(scope.get("path", ""))
        if versioned:
            name, version, rest = versioned.groups()
            served = self.served_version(name)
            if served is not False:  # an unknown model: the unversioned route answers 404
                if version != served:
                    holder["reason"] = "version_not_served"
                    await _send_json(counting_send, 404, f"model {name!r} version {version!r} is not served here; "
                                     f"this server serves version {served!r} (or use /v2/models/{name}{rest or ''})")
                    return
                path = f"/v2/models/{name}{rest or ''}"
                scope = {**scope, "path": path, "raw_path": path.encode()}
        await self.app(scope, receive, counting_send)

    def _refusal(self, scope: dict) -> tuple[int, str, str, list[tuple[bytes, bytes]]] | None:
        path, method = scope.get("path", ""), scope.get("method", "GET")
        if _REPOSITORY.match(path):
            if not self.token:
                return (403, "repository_disabled", "the model repository endpoints (load/unload) are disabled on this "
                        f"server; start it with {REPOSITORY_TOKEN_ENV} set (or --repository-token) and send "
                        "Authorization: Bearer <token>", [])
            auth = dict(scope.get("headers") or []).get(b"authorization", b"").decode("latin-1")
            scheme, _, given = auth.partition(" ")
            if scheme.lower() != "bearer" or not given.strip():
                return (401, "unauthorized", "the model repository endpoints need Authorization: Bearer <token>",
                        [(b"www-authenticate", b'Bearer realm="labelgate-repository"')])
            if not hmac.compare_digest(given.strip().encode(), self.token.encode()):
                return 403, "forbidden", "the bearer token is not this server's repository token", []
        if _EXPLAIN.match(path):
            return 404, "not_found", "this model has no explainer; use :predict", []
        if _POST_ONLY.match(path) and method != "POST":
            return 405, "method_not_allowed", f"{method} is not allowed on {path}; use POST", [(b"allow", b"POST")]
        return None


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
        "rejected": Counter("labelgate_rejected_requests_total", "requests refused (4xx or 503), by reason", ["reason"]),
        "version": Gauge("labelgate_model_version_info", "the served model version (value 1)", ["model", "version"]),
        "pending": Gauge("labelgate_requests_in_progress", "prediction requests admitted and not yet answered",
                         ["model"]),
        "log_dropped": Counter("labelgate_prediction_log_dropped_rows_total",
                               "sampled rows the prediction log dropped (its queue was full, or a write failed)"),
        "log_written": Counter("labelgate_prediction_log_rows_total", "rows written to the prediction log"),
        "abandoned": Counter("labelgate_abandoned_requests_total",
                             "requests whose client left before the answer began: their remaining work was dropped"),
    }


class MeteredModel(TextClassifierModel):
    """TextClassifierModel that also counts texts and the served version for /metrics, and offers each
    answer to the prediction log when one is set (off the request path: see :class:`PredictionLog`)."""

    prediction_log: PredictionLog | None = None

    async def postprocess(self, result, headers=None, response_headers=None):  # type: ignore[override]
        answer = await super().postprocess(result, headers, response_headers)
        if self.prediction_log is not None:
            self.prediction_log.offer(model=self.name, version=str(result["version"]), texts=result["batch"].texts,
                                      probs=result["probs"], classes=result["classes"])
        return answer

    def load(self) -> bool:
        ready = super().load()
        gauge = _metrics()["version"]
        gauge.clear()
        gauge.labels(model=self.name, version=str(self.version)).set(1)
        return ready

    def unload(self) -> None:
        super().unload()
        _metrics()["version"].clear()

    def observe_pending(self, pending: int) -> None:
        _metrics()["pending"].labels(model=self.name).set(pending)

    def observe_batch(self, requests: int, texts: int) -> None:
        _metrics()["batch_requests"].observe(requests)
        _metrics()["batch_texts"].observe(texts)

    async def preprocess(self, payload, headers=None):  # type: ignore[override]
        batch = await super().preprocess(payload, headers)
        _metrics()["texts"].labels(model=self.name).inc(len(batch.texts))
        return batch


class LoadFailed(Exception):
    """The repository ``load`` endpoint could not load the model (answered 503; what is served is kept)."""


def _kserve_parts() -> tuple[type, type, type]:
    """The repository, its extension and the data plane, with labelgate's behaviour (KServe imported late)."""
    from kserve.errors import InvalidInput, ModelNotFound
    from kserve.model_repository import ModelRepository
    from kserve.protocol.dataplane import DataPlane
    from kserve.protocol.model_repository_extension import ModelRepositoryExtension

    class ReloadingRepository(ModelRepository):
        """``load(name)`` reloads a registered model in place (the champion is resolved again); ``unload``
        keeps it registered but not ready, so a later ``load`` brings it back."""

        def load(self, name: str) -> bool:
            model = self.get_model(name)
            if model is None:
                raise ModelNotFound(name)
            return model.load()

        def unload(self, name: str) -> None:
            model = self.get_model(name)
            if model is None:
                raise KeyError(name)
            model.unload() if hasattr(model, "unload") else super().unload(name)

    class RepositoryExtension(ModelRepositoryExtension):
        async def load(self, model_name: str) -> None:
            model = self._model_registry.get_model(model_name)
            if model is None:
                raise ModelNotFound(model_name)
            try:
                await asyncio.to_thread(self._model_registry.load, model_name)
            except Exception as exc:
                state = f"it still serves version {model.version}" if model.ready else "it stays unloaded (not ready)"
                raise LoadFailed(f"loading model {model_name!r} failed: {exc}; {state}") from exc

    class LabelgateDataPlane(DataPlane):
        async def ready(self) -> bool:
            models = list(self.model_registry.get_models().values())
            return bool(models) and all([await model.healthy() for model in models])

        async def model_metadata(self, model_name: str) -> dict:
            metadata = await super().model_metadata(model_name)
            version = getattr(self.get_model_from_registry(model_name), "version", None)
            return {**metadata, "versions": [str(version)] if version is not None else []}

        def decode(self, body: Any, headers: Any, *args: Any, **kwargs: Any) -> Any:
            # Decoding reads only the client's request (JSON, CloudEvent headers): any failure is its mistake.
            try:
                return super().decode(body, headers, *args, **kwargs)
            except InvalidInput as exc:
                parser_error = exc.__cause__ or exc.__context__
                if isinstance(parser_error, ValueError) and "Unrecognized request format" in str(exc):
                    raise InvalidInput(f"the body is not valid JSON ({json_error(body, parser_error)}); send a JSON "
                                       'object: {"instances": ["text", ...]} (V1) or {"inputs": [...]} (V2)') from exc
                raise
            except (ValueError, TypeError, AttributeError, KeyError, IndexError, UnicodeError) as exc:
                raise InvalidInput(f"the request cannot be decoded ({type(exc).__name__}: {exc})") from exc

        def decode_inference_request(self, body: Any, headers: dict, model_name: str) -> Any:
            if not isinstance(body, bytes):
                return super().decode_inference_request(body, headers, model_name)
            limits = getattr(self.get_model_from_registry(model_name), "limits", None) or RequestLimits()
            return parse_binary_request(body, headers.get("inference-header-content-length"), model_name, limits)

    return ReloadingRepository, RepositoryExtension, LabelgateDataPlane


def _install_exception_handlers(app: Any, served_names: Callable[[], list[str]] = list) -> None:
    """One error shape for everything, 4xx without a traceback in the log; replaces KServe's handlers.
    ``served_names()`` lists the models served here, for the 404 of an unknown one."""
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from kserve.errors import (
        InvalidInput,
        ModelNotFound,
        ModelNotReady,
        ServerNotLive,
        ServerNotReady,
        UnsupportedProtocol,
    )
    from starlette.exceptions import HTTPException

    def error(request: Any, status: int, reason: str, message: str, headers: dict | None = None) -> JSONResponse:
        _set_reason(request.scope, reason)
        return JSONResponse(status_code=status, content={"error": message}, headers=headers)

    async def schema_error(request: Any, exc: RequestValidationError) -> JSONResponse:
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
        return error(request, 400, "schema", f"invalid request: {message}")

    async def http_error(request: Any, exc: HTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail, default=str)
        if exc.status_code == 404:
            detail = f"no such endpoint: {request.method} {request.url.path}"
        elif exc.status_code == 405:
            allowed = (exc.headers or {}).get("Allow") or (exc.headers or {}).get("allow") or "another method"
            detail = f"{request.method} is not allowed on {request.url.path}; use {allowed}"
        return error(request, exc.status_code, _STATUS_REASONS.get(exc.status_code, f"http_{exc.status_code}"),
                     detail, dict(exc.headers or {}))

    async def internal(request: Any, exc: Exception) -> JSONResponse:
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return JSONResponse(status_code=500, content={"error": f"internal error ({type(exc).__name__}); "
                                                               "see the server log"})

    retry = {"Retry-After": "1"}
    handlers: dict[Any, Callable] = {
        RequestValidationError: schema_error,
        HTTPException: http_error,
        InvalidInput: lambda r, e: error(r, 400, "invalid_input", str(e)),
        ModelNotFound: lambda r, e: error(r, 404, "model_not_found", f"{e} This server serves {served_names()}: "
                                          "use /v1/models/<name>:predict or /v2/models/<name>/infer"),
        UnsupportedProtocol: lambda r, e: error(r, 400, "unsupported_protocol", str(e)),
        ModelNotReady: lambda r, e: error(r, 503, "not_ready", str(e), retry),
        ServerNotReady: lambda r, e: error(r, 503, "not_ready", str(e), retry),
        ServerNotLive: lambda r, e: error(r, 503, "not_live", str(e)),
        Overloaded: lambda r, e: error(r, 503, "overloaded", str(e), {"Retry-After": str(e.retry_after_s)}),
        LoadFailed: lambda r, e: error(r, 503, "load_failed", str(e)),
        NotImplementedError: lambda r, e: error(r, 404, "not_found", f"not supported by this server: {e}"),
        Exception: internal,
    }

    for kind, handler in handlers.items():
        if asyncio.iscoroutinefunction(handler):
            app.add_exception_handler(kind, handler)
        else:
            app.add_exception_handler(kind, functools.partial(_as_async, handler))


async def _as_async(handler: Callable, request: Any, exc: Exception) -> Any:
    return handler(request, exc)


def _configure_logging(access_log: bool) -> None:
    """After KServe configured logging (it resets levels): one access-log line per request only when asked,
    and never KServe's two per-request timing lines (the same timings are in /metrics)."""
    import warnings

    logging.getLogger("uvicorn.access").setLevel(logging.INFO if access_log else logging.WARNING)
    logging.getLogger("kserve.trace").setLevel(logging.WARNING)
    # KServe's routes use ORJSONResponse, which this FastAPI deprecates: one warning per route, not actionable here.
    warnings.filterwarnings("ignore", message="ORJSONResponse is deprecated")


def build_model(*, name: str, source: ModelSource, loader: PredictorLoader, limits: RequestLimits,
                inference: InferenceLimits | None = None,
                prediction_log: PredictionLogSettings | None = None) -> TextClassifierModel:
    """The served model, loaded (raises if the model directory or champion cannot be loaded); with
    ``prediction_log`` settings whose ``directory`` is set, its answers are logged there."""
    model = MeteredModel(name, source=source, loader=loader, limits=limits, inference=inference)
    model.load()
    if prediction_log is not None and prediction_log.directory:
        model.prediction_log = PredictionLog(
            prediction_log.directory, sample=prediction_log.sample, privacy=prediction_log.privacy,
            max_mb=prediction_log.max_mb, flush_rows=prediction_log.flush_rows,
            flush_seconds=prediction_log.flush_seconds, queue_size=prediction_log.queue_size,
            on_drop=_metrics()["log_dropped"].inc, on_write=_metrics()["log_written"].inc)
    return model


def _deadline_protocol(limits: ConnectionLimits) -> type:
    """uvicorn's HTTP protocol with labelgate's request deadlines and connection bound."""
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    from labelgate.serving.connections import deadline_protocol

    return deadline_protocol(AutoHTTPProtocol, header_timeout_s=limits.header_timeout_s,
                             body_timeout_s=limits.body_timeout_s, max_connections=limits.connection_cap(),
                             max_header_bytes=limits.max_header_bytes,
                             on_refusal=lambda reason: _metrics()["rejected"].labels(reason=reason).inc())


def run_server(*, model: Any, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, access_log: bool = False,
               repository_token: str | None = None, connections: ConnectionLimits | None = None) -> None:
    """Serve ``model`` with KServe's REST server until SIGINT/SIGTERM (blocks). The repository (load/unload)
    endpoints answer only with ``Authorization: Bearer <repository_token>``, and not at all without one.
    ``connections`` bounds how long a client may take to send a request and how many connections stay open."""
    from kserve import ModelServer
    from kserve.constants.constants import FASTAPI_APP_IMPORT_STRING
    from kserve.model_server import app
    from kserve.protocol.rest.server import RESTServer

    repository_class, extension_class, dataplane_class = _kserve_parts()
    repository = repository_class()

    def served_version(name: str) -> str | None | bool:
        found = repository.get_model(name)
        return False if found is None else getattr(found, "version", None)

    class LabelgateRESTServer(RESTServer):
        def create_application(self) -> None:
            if getattr(app.state, "labelgate_hooks", False):
                return
            app.add_middleware(BodyLimitMiddleware, max_bytes=model.limits.max_body_bytes)
            app.add_middleware(AbandonMiddleware)  # outside the body limit: it sees the connection's receive()
            super().create_application()
            _install_exception_handlers(app, served_names=lambda: sorted(repository.get_models()))
            app.add_middleware(GuardMiddleware, token=repository_token, served_version=served_version)
            app.state.labelgate_hooks = True

    class HostModelServer(ModelServer):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.dataplane = dataplane_class(model_registry=self.registered_models)
            self.model_repository_extension = extension_class(model_registry=self.registered_models)

        def start(self, models: list) -> None:
            # ModelServer.start without gRPC and multiprocess, binding ``host`` instead of 0.0.0.0.
            self._register_and_check_atleast_one_model_is_ready(models)
            self._rest_server = LabelgateRESTServer(
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
            self._rest_server.config.http = _deadline_protocol(connections or ConnectionLimits())
            self.servers.append(self._rest_server.start())
            self.setup_event_loop()
            self.register_signal_handler()
            asyncio.run(self._serve())

    server = HostModelServer(
        http_port=port,
        enable_grpc=False,
        workers=1,
        registered_models=repository,
        enable_latency_logging=False,
        grace_period=5,
    )
    _configure_logging(access_log)
    try:
        server.start([model])
    finally:  # SIGTERM/SIGINT end start(): write what the prediction log still holds
        if getattr(model, "prediction_log", None) is not None:
            model.prediction_log.close()
