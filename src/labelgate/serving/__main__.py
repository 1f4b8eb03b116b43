"""`python -m labelgate.serving ...` is `labelgate serve ...` (how infra-validation starts the server)."""

import argparse
import sys

from labelgate.cli.serve import add_arguments, handle
from labelgate.errors import LabelgateError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m labelgate.serving", description=__doc__)
    add_arguments(parser)
    try:
        return handle(parser.parse_args(argv))
    except LabelgateError as exc:
        print(f"labelgate serve: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
