"""The `labelgate` command line. Each command group is one module exposing ``register(subparsers)``;
heavy imports happen inside the handlers so that ``labelgate --help`` stays fast."""

from __future__ import annotations

import argparse
import importlib
import sys

from labelgate.errors import LabelgateError
from labelgate.run import EXIT_BLOCKED, EXIT_ERROR, EXIT_OK

# One line per command module; each adds its subcommands and sets ``handler`` on them.
COMMAND_MODULES: tuple[str, ...] = (
    "labelgate.cli.pipeline",
    "labelgate.cli.cluster",
    "labelgate.cli.models",
    "labelgate.cli.serve",
    "labelgate.cli.report",
    "labelgate.cli.monitor",
    "labelgate.cli.lfs",
    "labelgate.cli.init",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="labelgate",
        description="Weak supervision to a served model: one Kubeflow pipeline, run locally or on a cluster.",
        epilog=f"Exit codes: {EXIT_OK} success, {EXIT_ERROR} error, {EXIT_BLOCKED} a gate blocked deployment.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except LabelgateError as exc:
        print(f"labelgate: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("labelgate: interrupted", file=sys.stderr)
        return EXIT_ERROR
