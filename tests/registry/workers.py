"""Processes the registry's concurrency and kill tests start: `python workers.py VERB JSON`.

Each worker imports what it needs, touches ``<ready>``, then waits for ``<go>`` to exist, so N workers
hit the registry within milliseconds of each other (a start line, not a timing assumption). Verbs:

- ``cli ARGS``: ``labelgate ARGS`` (e.g. models promote 2); prints its output, exits with its code.
- ``push``: ``push_model`` with the given keyword arguments; prints ``pushed N`` or ``ChampionMovedError: ...``.
- ``hold-infra``: ``push_model`` with infra-validation; once the candidate's server is ready, writes its
  pid to ``<pid>`` and waits (to be killed).
- ``hold-verify``: ``push_model``; once the version is registered, writes it to ``<pid>`` and waits.
- ``orphan``: the step's own protection: ``die_with_parent`` then wait; writes ``terminated`` to ``<pid>``
  when SIGTERM arrives.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def _start_line(spec: dict) -> None:
    Path(spec["ready"]).touch()
    while not Path(spec["go"]).exists():
        time.sleep(0.005)


def main() -> int:
    verb, spec = sys.argv[1], json.loads(sys.argv[2])
    if verb == "cli":
        from labelgate.cli import main as cli

        _start_line(spec)
        return cli(spec["args"])
    if verb == "orphan":
        from labelgate.serving.process import Terminated, die_with_parent, sigterm_raises

        with sigterm_raises():
            try:
                die_with_parent()
                Path(spec["ready"]).touch()
                time.sleep(600)
            except Terminated:
                Path(spec["pid"]).write_text("terminated")
        return 0

    from labelgate.errors import ChampionMovedError
    from labelgate.registry import push as push_module

    if verb == "hold-infra":
        from labelgate.serving import infra

        real_wait_ready = infra.wait_ready

        def wait_then_hold(*, proc, **kwargs):  # the server is up: report its pid and stay here
            waited = real_wait_ready(proc=proc, **kwargs)
            Path(spec["pid"]).write_text(str(proc.pid))
            time.sleep(600)
            return waited

        infra.wait_ready = wait_then_hold
    if verb == "hold-verify":
        def hold(*, version, **kwargs):  # the version is registered, its bundle uploaded: stay here
            Path(spec["pid"]).write_text(version)
            time.sleep(600)

        push_module.verify_version = hold
    kwargs = spec["push"]
    _start_line(spec)
    try:
        result = push_module.push_model(**kwargs)
    except ChampionMovedError as exc:
        print(f"ChampionMovedError: {exc}", flush=True)
        return 3
    print(f"pushed {result.version} (was {result.previous})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
