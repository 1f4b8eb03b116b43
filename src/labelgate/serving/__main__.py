"""`python -m labelgate.serving ...` is `labelgate serve ...` (how infra-validation starts the server)."""

import argparse
import sys

from labelgate.errors import LabelgateError
from labelgate.serving.options import add_arguments, serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m labelgate.serving", description=__doc__)
    add_arguments(parser)
    try:
        return serve(parser.parse_args(argv))
    except LabelgateError as exc:
        print(f"labelgate serve: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
