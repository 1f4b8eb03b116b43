"""Import KServe without letting it read this process's command line.

``kserve.model_server`` parses ``sys.argv`` when it is first imported (its module-level
``parser.parse_known_args()``), so importing labelgate's serving code from pytest or any tool with flags of
its own could fail or pick up settings (``pytest --co`` reads as kserve's ``--configure_logging``). Import
this module before any ``kserve`` import: it loads KServe once with the program name alone on the command
line, then puts the command line back. The server's own options come from ``labelgate serve``.
"""

import sys

_argv = sys.argv
sys.argv = _argv[:1]
try:
    import kserve.model_server  # noqa: F401  (the module that parses sys.argv at import)
finally:
    sys.argv = _argv
