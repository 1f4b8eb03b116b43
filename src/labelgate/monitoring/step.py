"""What the monitoring pipeline's one step calls (components/monitor.py), and `labelgate monitor` too: a window
of the prediction log (a local folder or an object-store URI, as ``read_log`` reads it) against the champion."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from labelgate.errors import ConfigError
from labelgate.monitoring.monitor import ChampionInputs, MonitorResult, load_champion, monitor, read_log

_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


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


@dataclass(frozen=True)
class Watched:
    """One monitoring verdict with what it was judged against and the log rows it judged."""

    result: MonitorResult
    champion: ChampionInputs
    log: pd.DataFrame  # the window's rows
    version: str | None


def watch(*, log_uri: str, registry_uri: str, model_name: str, model_version: str | None = None,
          bundle: str | None = None, since: str | None = None, all_versions: bool = False,
          config_path: str | None = None, check_log: Callable[[pd.DataFrame], object] | None = None) -> Watched:
    """Judge the window of ``log_uri`` served since ``since`` against the champion (or ``model_version``, or an
    unpacked ``bundle``), with the champion's own LFs and thresholds. ``check_log`` sees the window's rows first
    (it raises to refuse them: `--retrain` on a hash-only log)."""
    when = parse_since(since)
    if bundle:
        bundle_dir, version = Path(bundle), model_version
    else:
        from labelgate.champion import registered_model_dir

        model_dir, version = registered_model_dir(registry_uri, model_name, model_version)
        bundle_dir = model_dir.parent
    champion = load_champion(bundle_dir, version=version, config_path=config_path)
    log = read_log(log_uri, since=when, version=None if all_versions else version)
    if check_log is not None:
        check_log(log)
    return Watched(result=monitor(log, champion, since=when), champion=champion, log=log, version=version)


@dataclass(frozen=True)
class MonitorStep:
    """The monitoring step's verdict, and where it wrote the retraining data (empty: none written)."""

    result: MonitorResult
    retrain_data_uri: str = ""


def run_monitor(*, log_uri: str, registry_uri: str, model_name: str, since: str, all_versions: bool,
                html_path: str, markdown_path: str, json_path: str, retrain_data_uri: str = "",
                data_uri: str = "", suite_path: str = "", config_path: str = "", run_id: str = "") -> MonitorStep:
    """The monitoring pipeline's step: judge the window; the report's HTML, Markdown and JSON go to the paths.
    With ``retrain_data_uri`` (a folder prefix) a drifted window's retraining data (``data_uri``'s files plus the
    window's served texts, ``champion_retrain_data``) is written to ``<retrain_data_uri>/<run_id>`` and that folder
    returned, for the pipeline's training run; a log of hashes only is refused before anything is judged."""
    import shutil

    from labelgate.monitoring.report import write_report
    from labelgate.monitoring.retrain import champion_retrain_data, served_texts

    if retrain_data_uri and not (data_uri and run_id):
        raise ConfigError("retraining on drift needs data_uri (the training data the traffic is added to) and the "
                          "pipeline run's id (the retraining folder's name)")
    watched = watch(log_uri=log_uri, registry_uri=registry_uri, model_name=model_name, since=since or None,
                    all_versions=all_versions, check_log=served_texts if retrain_data_uri else None)
    with tempfile.TemporaryDirectory(prefix="labelgate-monitor-") as scratch:
        paths = write_report(watched.result, scratch, classes=list(watched.champion.data.classes))
        for key, target in (("html", html_path), ("markdown", markdown_path), ("json", json_path)):
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(paths[key], target)
    if not (retrain_data_uri and watched.result.drifted):
        return MonitorStep(watched.result)
    built = champion_retrain_data(watched.champion, watched.log, data_uri=data_uri,
                                  out_uri=f"{retrain_data_uri.rstrip('/')}/{run_id}", suite_path=suite_path or None,
                                  config_path=config_path or None)
    print(f"labelgate monitor: drift: retraining data in {built.data_uri}: {len(built.original_files)} training "
          f"file(s) and {built.rows} served texts as unlabeled train rows", flush=True)
    return MonitorStep(watched.result, built.data_uri)
