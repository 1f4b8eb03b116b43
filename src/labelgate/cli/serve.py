"""`labelgate serve`: the KServe model server on the registry's champion (or on a model directory)."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from labelgate.errors import ConfigError

DEFAULT_LOADER = "labelgate.training:load_predictor"


def resolve_loader(spec: str) -> Callable[[Path], Any]:
    """Import ``module:function``, the function that turns a model directory into a predictor."""
    module, _, attr = spec.partition(":")
    if not module or not attr:
        raise ConfigError(f"--loader must look like 'package.module:function', got {spec!r}")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"cannot import the predictor loader {spec!r}: {exc}") from exc


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from labelgate.champion import DEFAULT_REGISTRY_URI
    from labelgate.serving.settings import DEFAULT_HOST, DEFAULT_PORT, RequestLimits

    limits = RequestLimits()
    parser.add_argument("--registry-uri", default=DEFAULT_REGISTRY_URI, help="MLflow registry to take the champion from")
    parser.add_argument("--model-name", default="youtube-spam", help="registered model name, also the endpoint name")
    parser.add_argument("--model-version", default=None, help="serve this registered version instead of the champion")
    parser.add_argument("--model-dir", default=None, help="serve this model directory instead of the registry")
    parser.add_argument("--host", default=DEFAULT_HOST, help="interface to listen on (0.0.0.0 inside a container)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="HTTP port")
    parser.add_argument("--max-batch", type=int, default=limits.max_batch, help="most texts per request")
    parser.add_argument("--max-text-chars", type=int, default=limits.max_text_chars, help="longest text accepted")
    parser.add_argument("--max-body-bytes", type=int, default=limits.max_body_bytes, help="largest request body")
    parser.add_argument("--access-log", action="store_true", help="log every request")
    parser.add_argument("--loader", default=DEFAULT_LOADER, help=argparse.SUPPRESS)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve the champion model over KServe V1/V2 on localhost",
        description="Serve the registry's champion (or --model-dir) with KServe's ModelServer: "
        "/v1/models/<name>:predict, /v2/models/<name>/infer, /v2/health/ready, /metrics. "
        "POST /v2/repository/models/<name>/load reloads the champion after `labelgate models promote/rollback`.",
    )
    add_arguments(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from labelgate.serving.model import ModelSource
    from labelgate.serving.server import build_model, run_server
    from labelgate.serving.settings import RequestLimits

    source = (
        ModelSource(model_dir=Path(args.model_dir))
        if args.model_dir
        else ModelSource(registry_uri=args.registry_uri, registered_name=args.model_name, version=args.model_version)
    )
    limits = RequestLimits(
        max_batch=args.max_batch, max_text_chars=args.max_text_chars, max_body_bytes=args.max_body_bytes
    )
    model = build_model(name=args.model_name, source=source, loader=resolve_loader(args.loader), limits=limits)
    print(
        f"labelgate serve: model {args.model_name!r} version {model.version} ({', '.join(model.classes)}) on "
        f"http://{args.host}:{args.port}/v1/models/{args.model_name}:predict and /v2/models/{args.model_name}/infer",
        flush=True,
    )
    run_server(model=model, host=args.host, port=args.port, access_log=args.access_log)
    return 0
