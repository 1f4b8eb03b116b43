"""`labelgate monitor`: a window of served traffic (the prediction log) against the champion's profile."""

from __future__ import annotations

import argparse
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from labelgate.errors import ConfigError
from labelgate.parameters import DEFAULTS
from labelgate.run import EXIT_BLOCKED, EXIT_OK

_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def register(subparsers: argparse._SubParsersAction) -> None:
    monitor = subparsers.add_parser(
        "monitor", help="compare served traffic (the prediction log) with the champion's profile; exit 3 on drift",
        description="Read the server's prediction log (labelgate serve --prediction-log DIR), run the champion's "
        "own LFs on the served texts and compare text lengths, predicted-class shares and LF coverage with the "
        "profile stored with the champion, using the thresholds of the config it was trained with. Writes "
        "monitor.md, monitor.html and monitor.json.",
        epilog=f"Exit codes: {EXIT_OK} no drift, 1 error (also: too few rows), {EXIT_BLOCKED} drift detected.")
    monitor.add_argument("--log", required=True, metavar="DIR", help="the prediction-log directory")
    monitor.add_argument("--since", default=None,
                         help="only rows served since then: an ISO time (UTC unless it says) or a duration "
                         "back from now such as 30m, 24h, 7d (default: the whole log)")
    monitor.add_argument("--registry-uri", default=DEFAULTS.registry_uri, help="MLflow registry holding the champion")
    monitor.add_argument("--model-name", default=DEFAULTS.model_name, help="registered model name")
    monitor.add_argument("--model-version", default=None, help="compare with this version instead of the champion")
    monitor.add_argument("--bundle", default=None, metavar="DIR",
                         help="an unpacked bundle (profile.json beside model/) instead of the registry")
    monitor.add_argument("--all-versions", action="store_true",
                         help="judge rows served by every version (default: only the compared version's rows)")
    monitor.add_argument("--config", default=None,
                         help="config whose monitoring section to use (and settings for a champion without its own)")
    monitor.add_argument("--out", default="monitoring", metavar="DIR", help="where the report goes (default: monitoring)")
    monitor.set_defaults(handler=_monitor)


def parse_since(text: str | None, *, now: datetime | None = None) -> datetime | None:
    """``--since``: None, a duration back from ``now`` (``30m``, ``24h``, ``7d``) or an ISO time (UTC when naive)."""
    if not text:
        return None
    match = _DURATION.match(text.strip())
    if match:
        return (now or datetime.now(UTC)) - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise ConfigError(f"--since {text!r} is neither an ISO time (2026-12-01T08:00) nor a duration (30m, 24h, 7d)") from exc
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def _monitor(args: argparse.Namespace) -> int:
    from labelgate.monitoring.monitor import load_champion, monitor, read_log
    from labelgate.monitoring.report import write_report

    since = parse_since(args.since)
    if args.bundle:
        bundle, version = Path(args.bundle), args.model_version
    else:
        from labelgate.champion import registered_model_dir

        model_dir, version = registered_model_dir(args.registry_uri, args.model_name, args.model_version)
        bundle = model_dir.parent
    champion = load_champion(bundle, version=version, config_path=args.config)
    log = read_log(args.log, since=since, version=None if args.all_versions else version)
    result = monitor(log, champion, since=since)
    paths = write_report(result, args.out, classes=list(champion.data.classes))
    for note in result.notes:
        print(f"labelgate monitor: note: {note}")
    print(f"labelgate monitor: {'DRIFT' if result.drifted else 'OK'}: {result.reason}")
    print(f"labelgate monitor: report {paths['html']} ({paths['markdown'].name}, {paths['json'].name})")
    return EXIT_BLOCKED if result.drifted else EXIT_OK
