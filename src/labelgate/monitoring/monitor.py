"""Compare a window of served traffic (the prediction log) with the champion's profile.

Checks, with the thresholds of the champion's own ``validation`` config section (as the data gate):
text-length distribution (Jensen-Shannon on the profile's bins), predicted-class shares against the
profile's class balance (L-infinity), and the coverage of each of the champion's LFs on the served texts
(a collapse is drift: the world changed). The LF votes on served texts are reported beside them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from labelgate.config import load_config
from labelgate.contract import LF_MODULE_FILE, PROFILE_FILE, TRAINING_CONFIG_FILE
from labelgate.errors import ConfigError, DataError
from labelgate.ingest.settings import DataSettings
from labelgate.monitoring.settings import MonitoringSettings
from labelgate.serving.prediction_log import LABEL, TEXT, TIME, VERSION, LogLocation
from labelgate.validation.drift import build_profile, compare_profiles
from labelgate.validation.findings import Finding
from labelgate.validation.settings import ValidationSettings

HASHED_NOTE = ("LF monitoring is off: the prediction log holds SHA-256 hashes of the texts, not the texts "
               "(the server ran with --prediction-log-privacy hash), so the champion's LFs cannot run on the "
               "traffic and text lengths are unknown; only predicted-class shares are compared")


@dataclass(frozen=True)
class ChampionInputs:
    """What monitoring takes from a registered bundle: its profile, LF module and settings."""

    bundle_dir: Path
    version: str | None
    profile: dict[str, Any]
    data: DataSettings
    validation: ValidationSettings
    monitoring: MonitoringSettings
    lf_module: Path | None
    notes: tuple[str, ...] = ()

    @property
    def model_dir(self) -> Path:
        """The bundle's model folder (the config and LF module the model kept are in it)."""
        return bundle_model_dir(self.bundle_dir)


def bundle_model_dir(bundle: Path) -> Path:
    """``model/`` inside a registered bundle, or the bundle itself when it is a bare model folder."""
    return bundle / "model" if (bundle / "model").is_dir() else bundle


@dataclass
class MonitorResult:
    """The verdict on one window of traffic: findings (as the data gate's), notes, and what the report shows."""

    rows: int
    version: str | None
    since: datetime | None
    findings: list[Finding]
    notes: list[str]
    reference: dict[str, Any]
    current: dict[str, Any]
    class_shares: dict[str, tuple[float, float]]  # class -> (champion's balance, served share)
    lf_votes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def drifted(self) -> bool:
        return any(f.blocks for f in self.findings)

    @property
    def reason(self) -> str:
        failed = [f.line() for f in self.findings if f.blocks]
        if failed:
            return f"drift in {len(failed)} check(s): " + "; ".join(failed)
        return f"no drift over {len(self.findings)} check(s) on {self.rows} served rows"


def load_champion(bundle_dir: str | Path, *, version: str | None = None, config_path: str | None = None) -> ChampionInputs:
    """Read a bundle (as the registry stores a version): ``profile.json`` beside ``model/``, and the config and
    LF module that the model kept. ``config_path`` stands in for a bundle that carries no config (older
    champions) and, when given, its ``monitoring`` section is used."""
    bundle = Path(bundle_dir)
    model_dir = bundle_model_dir(bundle)
    profile_path = model_dir.parent / PROFILE_FILE
    if not profile_path.is_file():
        raise DataError(f"the champion bundle {model_dir.parent} has no {PROFILE_FILE}; it was pushed without the "
                        "data gate's profile, so there is nothing to compare traffic with")
    import json

    try:
        profile = json.loads(profile_path.read_text())
    except ValueError as exc:
        raise DataError(f"{profile_path} is not valid JSON: {exc}") from exc
    notes: list[str] = []
    kept = model_dir / TRAINING_CONFIG_FILE
    if kept.is_file():
        config = load_config(kept)
    elif config_path:
        config = load_config(config_path)
        notes.append(f"the champion carries no training config; settings from {config_path}")
    else:
        raise ConfigError(f"the champion bundle {model_dir.parent} carries no {TRAINING_CONFIG_FILE} (it was trained "
                          "before models kept their config); pass --config with the config it was trained with")
    own = load_config(config_path) if config_path else config
    lf_module = model_dir / LF_MODULE_FILE
    if not lf_module.is_file():
        notes.append("LF monitoring is off: the champion carries no LF module (it was trained before models kept "
                     "their LFs, or without lf_module)")
    return ChampionInputs(bundle_dir=bundle, version=version, profile=profile,
                          data=DataSettings.from_section(config["data"]),
                          validation=ValidationSettings.from_section(config["validation"]),
                          monitoring=MonitoringSettings.from_section(own["monitoring"]),
                          lf_module=lf_module if lf_module.is_file() else None, notes=tuple(notes))


def read_log(log_dir: str | Path, *, since: datetime | None = None, version: str | None = None) -> pd.DataFrame:
    """The prediction log's rows in ``log_dir`` (a folder or an object store URI) served at or after ``since`` (UTC) by ``version`` (any when None)."""
    try:
        table = LogLocation(log_dir).read()
    except Exception as exc:  # an object store that cannot be reached or read (botocore's errors are no OSErrors)
        raise DataError(f"cannot read the prediction log at {log_dir}: {exc}; check the location and, for an "
                        "object store, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_ENDPOINT_URL") from exc
    if table is None:
        raise DataError(f"no prediction-log files (predictions-*.parquet) in {log_dir}; start the server with "
                        f"--prediction-log {log_dir} and send it traffic")
    frame = table.to_pandas()
    if since is not None:
        cutoff = pd.Timestamp(since)
        cutoff = cutoff.tz_localize("UTC") if cutoff.tzinfo is None else cutoff.tz_convert("UTC")
        frame = frame[frame[TIME] >= cutoff]
    if version is not None:
        frame = frame[frame[VERSION] == str(version)]
    return frame.reset_index(drop=True)


def monitor(log: pd.DataFrame, champion: ChampionInputs, *, since: datetime | None = None) -> MonitorResult:
    """Compare the logged rows ``log`` with ``champion``'s profile; raises DataError when there are too few."""
    need = champion.monitoring.min_rows
    if len(log) < need:
        window = f" since {since.isoformat()}" if since else ""
        served = f" by version {champion.version}" if champion.version else ""
        raise DataError(f"too few served rows to judge drift: {len(log)} in the prediction log{window}{served}; "
                        f"at least {need} are needed (monitoring.min_rows); widen --since or wait for more traffic")
    notes = list(champion.notes)
    data, validation = champion.data, champion.validation
    hashed = log[TEXT].isna().all()
    reference = {k: v for k, v in champion.profile.items() if k not in ("categorical", "class_balance")}
    findings: list[Finding] = []
    current: dict[str, Any] = {"rows": len(log), "numeric": {}}
    lf_votes: list[dict[str, Any]] = []
    if hashed:
        notes.append(HASHED_NOTE)
        reference = {}
    else:
        texts = log[TEXT].fillna("").astype(str)
        frame = pd.DataFrame({data.text_column: texts})
        columns = tuple(dict.fromkeys((*validation.length_columns, data.text_column)))
        profiled = validation.model_copy(update={"length_columns": columns, "numeric_columns": (),
                                                 "categorical_columns": ()})
        matrix, names = None, None
        if champion.lf_module is not None:
            matrix, names, failures = _apply_lfs(champion.lf_module, frame, data)
            lf_votes = _vote_table(matrix, names, data.classes, champion.profile.get("lf_coverage", {}))
            if failures:
                notes.append("LFs that raised on served texts (counted as abstains): "
                             + ", ".join(f"{k} ({v} rows)" for k, v in failures.items()))
        else:
            reference.pop("lf_coverage", None)
        current = build_profile(frame=frame, label_matrix=matrix, lf_names=names, probs=None, settings=profiled,
                                reference=champion.profile)
        if "lf_coverage" not in champion.profile and matrix is not None:
            notes.append("the champion's profile holds no LF coverage; LF coverage is reported, not compared")
        findings += compare_profiles(reference, current, profiled)
    shares = _class_shares(log, data.classes, champion.profile.get("class_balance"))
    if shares:
        gap = max(abs(a - b) for a, b in shares.values())
        worst = max(shares, key=lambda k: abs(shares[k][0] - shares[k][1]))
        findings.append(Finding(
            "drift", "drift: predicted class shares", validation.drift_severity,
            gap <= validation.max_class_balance_shift,
            f"share of {worst!r} {shares[worst][0]:.3f} (champion's class balance) -> {shares[worst][1]:.3f} "
            f"(served); L-infinity {gap:.3f} (max {validation.max_class_balance_shift:.2f})"))
    else:
        notes.append("the champion's profile holds no class balance; predicted-class shares are reported only")
    return MonitorResult(rows=len(log), version=champion.version, since=since, findings=findings, notes=notes,
                         reference=champion.profile, current=current, class_shares=shares, lf_votes=lf_votes)


def _apply_lfs(lf_module: Path, frame: pd.DataFrame, data: DataSettings) -> tuple[np.ndarray, list[str], dict[str, int]]:
    from labelgate.labeling.applier import LFApplier
    from labelgate.labeling.loader import load_lfs

    lfs = load_lfs(str(lf_module))
    applied = LFApplier(lfs, cardinality=data.cardinality, fault_tolerant=True, classes=data.classes).apply_frame(frame)
    return applied.matrix, applied.lf_names, {k: v for k, v in applied.failures.items() if v}


def _vote_table(matrix: np.ndarray, names: list[str], classes: tuple[str, ...] | list[str],
                reference: dict[str, float]) -> list[dict[str, Any]]:
    rows = []
    for j, name in enumerate(names):
        votes = matrix[:, j]
        voted = votes[votes != -1]
        rows.append({"lf": name, "champion_coverage": reference.get(name),
                     "served_coverage": float(len(voted)) / max(len(votes), 1),
                     "votes": {c: int((voted == k).sum()) for k, c in enumerate(classes)}})
    return rows


def _class_shares(log: pd.DataFrame, classes: tuple[str, ...] | list[str],
                  balance: list[float] | None) -> dict[str, tuple[float, float]]:
    if not balance or len(balance) != len(classes):
        return {}
    served = log[LABEL].astype(str).value_counts(normalize=True)
    return {c: (float(balance[k]), float(served.get(c, 0.0))) for k, c in enumerate(classes)}
