"""Typed settings for the ``repair`` section of the pipeline config: what counts as an error, how sure a
repair must be, and the sizes of the two models (the repair model and the attention imputer)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fsspec
import yaml

from labelgate.config import check_keys, take
from labelgate.errors import ConfigError

SECTION = "repair"


@dataclass(frozen=True)
class RepairSettings:
    """Repair thresholds and model sizes. Defaults are general, not fitted to any one table."""

    # Columns to check and repair (empty: every column); columns never touched (ids, free text, splits).
    columns: tuple[str, ...] = ()
    exclude_columns: tuple[str, ...] = ()
    # A repair is applied when its probability reaches this; below it the cell is left and flagged
    # (1.0: report only, nothing is changed).
    threshold: float = 0.8
    # Detection: nulls, denial-constraint suspects, values seen once in a column whose values repeat,
    # numbers far outside their column's distribution (robust z-score), values missing from a dictionary.
    detect_nulls: bool = True
    detect_rare: bool = True
    # A column takes part in rare-value detection when at most this share of its rows hold a value seen once.
    max_singleton_fraction: float = 0.1
    outlier_z: float = 6.0
    # Flags that cover every row of some group of another column are a pattern of the data, not errors,
    # when independent errors would do that with probability below this.
    pattern_significance: float = 1e-4
    # Numeric columns with more distinct values than this are continuous (imputed by regression).
    continuous_min_distinct: int = 50
    # Candidate values scored per dirty cell, and how many each other attribute proposes.
    max_candidates: int = 20
    candidates_per_source: int = 3
    # External dictionaries: column -> file of allowed values (one per line).
    dictionaries: dict[str, str] = field(default_factory=dict)
    # Repair model (log-linear over candidates, trained on clean cells).
    max_training_cells: int = 20_000
    holdout_fraction: float = 0.2
    model_epochs: int = 200
    # Attention imputer (AimNet-style).
    imputer_dim: int = 32
    imputer_heads: int = 4
    imputer_steps: int = 300
    imputer_batch: int = 256
    imputer_max_rows: int = 200_000
    max_categories: int = 2000
    # Refuse tables whose estimated working memory exceeds this (shard by a blocking key instead).
    max_memory_gb: float = 8.0
    # Torch threads while repairing: the models are small, one thread avoids thread contention;
    # parallelism comes from sharding the table.
    torch_threads: int = 1
    max_report_rows: int = 200
    seed: int = 0

    @classmethod
    def from_section(cls, section: dict[str, Any]) -> RepairSettings:
        where = SECTION
        check_keys(section, set(cls.__dataclass_fields__), where)
        number = (int, float)
        values: dict[str, Any] = {}
        for name, spec in cls.__dataclass_fields__.items():
            default = spec.default if spec.default_factory is field().default_factory else spec.default_factory()
            if isinstance(default, tuple):
                got = take(section, name, list(default), list, where)
                if not all(isinstance(c, str) for c in got):
                    raise ConfigError(f"config {where}.{name} must be a list of column names, got {got!r}")
                values[name] = tuple(got)
            elif isinstance(default, bool):
                values[name] = take(section, name, default, bool, where)
            elif isinstance(default, float):
                values[name] = float(take(section, name, default, number, where))
            elif isinstance(default, int):
                got = take(section, name, default, int, where)
                if isinstance(got, bool):
                    raise ConfigError(f"config {where}.{name} must be int, got {got!r}")
                values[name] = got
            elif isinstance(default, dict):
                got = take(section, name, default, dict, where)
                if not all(isinstance(k, str) and isinstance(v, str) for k, v in got.items()):
                    raise ConfigError(f"config {where}.{name} must map column names to file paths, got {got!r}")
                values[name] = dict(got)
        settings = cls(**values)
        settings.check()
        return settings

    def check(self) -> None:
        """Range checks, each naming the key and the values it allows."""
        where = SECTION
        ranges = {"threshold": (0.0, 1.0), "pattern_significance": (0.0, 0.5), "max_singleton_fraction": (0.0, 1.0), "holdout_fraction": (0.05, 0.5)}
        for name, (low, high) in ranges.items():
            value = getattr(self, name)
            if not low <= value <= high:
                raise ConfigError(f"config {where}.{name} must be in [{low}, {high}], got {value}")
        positive = ("outlier_z", "continuous_min_distinct", "max_candidates", "candidates_per_source",
                    "max_training_cells", "model_epochs", "imputer_dim", "imputer_heads", "imputer_steps",
                    "imputer_batch", "imputer_max_rows", "max_categories", "max_memory_gb", "torch_threads")
        for name in positive:
            if getattr(self, name) <= 0:
                raise ConfigError(f"config {where}.{name} must be > 0, got {getattr(self, name)}")
        if self.max_candidates < 2:
            raise ConfigError(f"config {where}.max_candidates must be >= 2, got {self.max_candidates}")
        if self.imputer_dim % self.imputer_heads:
            raise ConfigError(f"config {where}.imputer_dim ({self.imputer_dim}) must be a multiple of "
                              f"{where}.imputer_heads ({self.imputer_heads})")
        if self.max_report_rows < 0:
            raise ConfigError(f"config {where}.max_report_rows must be >= 0, got {self.max_report_rows}")


def load_repair_section(config_path: str | Path) -> dict[str, Any] | None:
    """The ``repair`` section of a pipeline config, or None when the config has none (repair is off).

    Reads the YAML directly: ``labelgate.config.SECTIONS`` gains ``repair`` when the step is wired into
    the pipeline; until then this keeps the step usable on its own."""
    try:
        with fsspec.open(str(config_path), "r", encoding="utf-8") as fh:
            raw = yaml.safe_load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(f"config file not found: {config_path}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {config_path} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict) or SECTION not in raw:
        return None
    section = raw[SECTION]
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise ConfigError(f"config file {config_path}: section '{SECTION}' must be a mapping")
    return dict(section)
