"""The model server's command-line options and what they start, in one place for both entry points:
`labelgate serve` (the CLI) and `python -m labelgate.serving` (how infra-validation starts the server).

Importing this module stays light (no KServe), so ``labelgate --help`` stays fast.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from labelgate.errors import ConfigError
from labelgate.parameters import DEFAULTS
from labelgate.serving.loader import DEFAULT_LOADER, ModelSource, resolve_loader
from labelgate.serving.settings import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    REPOSITORY_TOKEN_ENV,
    ConnectionLimits,
    InferenceLimits,
    PredictionLogSettings,
    RequestLimits,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The server's options (``--loader`` is hidden: tests and infra-validation swap the predictor loader)."""
    limits, inference = RequestLimits(), InferenceLimits()
    parser.add_argument("--registry-uri", default=DEFAULTS.registry_uri, help="MLflow registry to take the champion from")
    parser.add_argument("--model-name", default=DEFAULTS.model_name, help="registered model name, also the endpoint name")
    parser.add_argument("--model-version", default=None, help="serve this registered version instead of the champion")
    parser.add_argument("--model-dir", default=None, help="serve this model directory instead of the registry")
    parser.add_argument("--host", default=DEFAULT_HOST, help="interface to listen on (0.0.0.0 inside a container)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="HTTP port")
    parser.add_argument("--max-batch", type=int, default=limits.max_batch, help="most texts per request")
    parser.add_argument("--max-text-chars", type=int, default=limits.max_text_chars, help="longest text accepted")
    parser.add_argument("--max-body-bytes", type=int, default=limits.max_body_bytes, help="largest request body")
    parser.add_argument("--inference-threads", type=int, default=inference.threads,
                        help="threads that run predictions beside the event loop (which keeps answering health checks)")
    parser.add_argument("--max-pending", type=int, default=inference.max_pending,
                        help="most requests in progress at once; more are answered 503 with Retry-After")
    connections = ConnectionLimits()
    parser.add_argument("--header-timeout", type=float, default=connections.header_timeout_s,
                        help="seconds a client has to send its request headers (else 408 and the connection closed)")
    parser.add_argument("--body-timeout", type=float, default=connections.body_timeout_s,
                        help="seconds a client has to send its request body after the headers (else 408)")
    parser.add_argument("--max-header-bytes", type=int, default=connections.max_header_bytes,
                        help="most bytes of request line and headers (else 431 and the connection closed)")
    parser.add_argument("--max-connections", type=int, default=connections.max_connections,
                        help="most open connections; beyond it the oldest ones waiting for a request are closed "
                        "(default: half the open-file limit, at most 4096)")
    parser.add_argument("--repository-token", default=None,
                        help="enable the repository endpoints (POST /v2/repository/models/<name>/load|unload) for "
                        f"clients sending 'Authorization: Bearer <token>'; prefer the {REPOSITORY_TOKEN_ENV} "
                        "environment variable (a flag shows in the process list). Off when neither is set")
    parser.add_argument("--access-log", action="store_true", help="log every request (off by default)")
    logged = PredictionLogSettings()
    parser.add_argument("--prediction-log", default=None, metavar="DIR",
                        help="append sampled requests and answers to Parquet files in DIR, off the request path "
                        "(off by default; locally e.g. mlruns/predictions beside the registry; on a cluster an "
                        "object store prefix such as s3://bucket/predictions, with AWS_* credentials and "
                        "AWS_ENDPOINT_URL); read by `labelgate monitor --log DIR`")
    parser.add_argument("--prediction-log-sample", type=float, default=logged.sample,
                        help="fraction of texts logged, 0..1")
    parser.add_argument("--prediction-log-privacy", choices=["text", "hash"], default=logged.privacy,
                        help="'hash' stores a SHA-256 of each text instead of the text (LF monitoring then off)")
    parser.add_argument("--prediction-log-max-mb", type=float, default=logged.max_mb,
                        help="most megabytes of log files kept; the oldest files are deleted")
    parser.add_argument("--prediction-log-flush-rows", type=int, default=logged.flush_rows,
                        help="rows per file: a file is written every this many rows")
    parser.add_argument("--prediction-log-flush-seconds", type=float, default=logged.flush_seconds,
                        help="... or this many seconds after its first row, and on shutdown")
    parser.add_argument("--prediction-log-queue", type=int, default=logged.queue_size,
                        help="requests held in memory for the writer; when full, rows are dropped and counted "
                        "in labelgate_prediction_log_dropped_rows_total")
    parser.add_argument("--loader", default=DEFAULT_LOADER, help=argparse.SUPPRESS)


_LOG_FLAGS = {"directory": "--prediction-log", "queue_size": "--prediction-log-queue"}


def prediction_log_settings(args: argparse.Namespace) -> PredictionLogSettings:
    """The ``--prediction-log*`` options; a bad value is a ConfigError naming the flag."""
    from pydantic import ValidationError

    defaults = PredictionLogSettings()
    values = {"directory": getattr(args, "prediction_log", None)}
    for name in ("sample", "privacy", "max_mb", "flush_rows", "flush_seconds", "queue_size"):
        flag = _LOG_FLAGS.get(name, f"--prediction-log-{name.replace('_', '-')}")
        values[name] = getattr(args, flag.removeprefix("--").replace("-", "_"), getattr(defaults, name))
    for name in ("sample", "max_mb", "flush_seconds"):
        values[name] = float(values[name])
    try:
        return PredictionLogSettings(**values)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0])
        flag = _LOG_FLAGS.get(field, f"--prediction-log-{field.replace('_', '-')}")
        raise ConfigError(f"invalid server option {flag} {values.get(field)!r}: "
                          f"{error['msg'].replace('Input should be', 'must be')}") from exc


def source_from_arguments(args: argparse.Namespace) -> ModelSource:
    """``--model-dir`` if given, else the registry's ``--model-version`` or champion of ``--model-name``."""
    if args.model_dir:
        return ModelSource(model_dir=Path(args.model_dir))
    return ModelSource(registry_uri=args.registry_uri, registered_name=args.model_name, version=args.model_version)


def serve(args: argparse.Namespace) -> int:
    """Load the model the options name and serve it until SIGINT/SIGTERM (blocks); returns the exit code."""
    from pydantic import ValidationError

    from labelgate.serving.server import build_model, run_server  # imports KServe: only when serving

    try:
        limits = RequestLimits(
            max_batch=args.max_batch, max_text_chars=args.max_text_chars, max_body_bytes=args.max_body_bytes
        )
        inference = InferenceLimits(threads=args.inference_threads, max_pending=args.max_pending,
                                    chunk_chars=max(args.max_text_chars, InferenceLimits().chunk_chars))
        connections = ConnectionLimits(header_timeout_s=float(args.header_timeout),
                                       body_timeout_s=float(args.body_timeout), max_connections=args.max_connections,
                                       max_header_bytes=args.max_header_bytes)
    except ValidationError as exc:
        raise ConfigError(f"invalid server option: {exc.errors()[0]['loc'][0]}: {exc.errors()[0]['msg']}") from exc
    prediction_log = prediction_log_settings(args)
    token = args.repository_token or os.environ.get(REPOSITORY_TOKEN_ENV) or None
    model = build_model(name=args.model_name, source=source_from_arguments(args), loader=resolve_loader(args.loader),
                        limits=limits, inference=inference, prediction_log=prediction_log)
    print(
        f"labelgate serve: model {args.model_name!r} version {model.version} ({', '.join(model.classes)}) on "
        f"http://{args.host}:{args.port}/v1/models/{args.model_name}:predict and /v2/models/{args.model_name}/infer; "
        f"repository endpoints {'on (bearer token)' if token else 'off'}; prediction log "
        f"{f'{prediction_log.directory} (sample {prediction_log.sample}, {prediction_log.privacy})' if prediction_log.directory else 'off'}",
        flush=True,
    )
    run_server(model=model, host=args.host, port=args.port, access_log=args.access_log, repository_token=token,
               connections=connections)
    return 0
