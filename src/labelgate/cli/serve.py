"""`labelgate serve`: the KServe model server on the registry's champion (or on a model directory).

The options and what they start live in :mod:`labelgate.serving.options`, shared with
`python -m labelgate.serving`.
"""

from __future__ import annotations

import argparse

from labelgate.serving.options import add_arguments, serve


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve the champion model over KServe V1/V2 on localhost",
        description="Serve the registry's champion (or --model-dir) with KServe's ModelServer: "
        "/v1/models/<name>:predict, /v2/models/<name>/infer, /v2/health/live|ready, /metrics. "
        "POST /v2/repository/models/<name>/load reloads the champion after `labelgate models promote/rollback`, "
        "when LABELGATE_REPOSITORY_TOKEN is set and the request sends 'Authorization: Bearer <token>'.",
    )
    add_arguments(parser)
    parser.set_defaults(handler=serve)
