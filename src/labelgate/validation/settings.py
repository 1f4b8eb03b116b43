"""Typed settings for the ``validation`` section of the pipeline config: drift thresholds and what to profile."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from labelgate.config import check_keys, take
from labelgate.errors import ConfigError

SEVERITIES = ("critical", "warning")


@dataclass(frozen=True)
class ValidationSettings:
    """Thresholds of the data gate. Distances are in [0, 1]; a drift finding above its threshold has
    ``drift_severity`` (critical blocks, warning only reports)."""

    # Jensen-Shannon distance (base 2) between binned numeric / text-length distributions.
    max_js_distance: float = 0.2
    # L-infinity distance (largest absolute change of one category's share) for categorical columns.
    max_linf_distance: float = 0.2
    # An LF's coverage may drop by this fraction of the champion's coverage (a larger rise is a warning) ...
    max_lf_coverage_change: float = 0.5
    # ... but changes smaller than this absolute amount are noise and never count.
    min_lf_coverage_change: float = 0.03
    # L-infinity distance between the label model's predicted class balances.
    max_class_balance_shift: float = 0.15
    # Columns profiled for drift: text columns by their length in characters, numeric ones as they are,
    # categorical ones by the share of each value (the ``top_categories`` most common; the rest pooled).
    length_columns: tuple[str, ...] = ("CONTENT",)
    numeric_columns: tuple[str, ...] = ()
    categorical_columns: tuple[str, ...] = ("CLASS",)
    top_categories: int = 50
    bins: int = 20
    drift_severity: str = "critical"
    constraint_severity: str = "critical"
    # How many example values / rows a report shows per failed check.
    max_examples: int = 5

    @classmethod
    def from_section(cls, section: dict[str, Any]) -> ValidationSettings:
        where = "validation"
        fields = set(cls.__dataclass_fields__)
        check_keys(section, fields, where)
        number = (int, float)
        settings = cls(
            max_js_distance=float(take(section, "max_js_distance", cls.max_js_distance, number, where)),
            max_linf_distance=float(take(section, "max_linf_distance", cls.max_linf_distance, number, where)),
            max_lf_coverage_change=float(
                take(section, "max_lf_coverage_change", cls.max_lf_coverage_change, number, where)),
            min_lf_coverage_change=float(
                take(section, "min_lf_coverage_change", cls.min_lf_coverage_change, number, where)),
            max_class_balance_shift=float(
                take(section, "max_class_balance_shift", cls.max_class_balance_shift, number, where)),
            length_columns=tuple(take(section, "length_columns", list(cls.length_columns), list, where)),
            numeric_columns=tuple(take(section, "numeric_columns", list(cls.numeric_columns), list, where)),
            categorical_columns=tuple(
                take(section, "categorical_columns", list(cls.categorical_columns), list, where)),
            top_categories=take(section, "top_categories", cls.top_categories, int, where),
            bins=take(section, "bins", cls.bins, int, where),
            drift_severity=take(section, "drift_severity", cls.drift_severity, str, where),
            constraint_severity=take(section, "constraint_severity", cls.constraint_severity, str, where),
            max_examples=take(section, "max_examples", cls.max_examples, int, where),
        )
        for name in ("max_js_distance", "max_linf_distance", "max_class_balance_shift", "min_lf_coverage_change"):
            value = getattr(settings, name)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"config validation.{name} must be in [0, 1], got {value}")
        if settings.max_lf_coverage_change < 0:
            raise ConfigError("config validation.max_lf_coverage_change must be >= 0")
        for name in ("drift_severity", "constraint_severity"):
            if getattr(settings, name) not in SEVERITIES:
                raise ConfigError(f"config validation.{name} must be one of {list(SEVERITIES)}, "
                                  f"got {getattr(settings, name)!r}")
        if settings.bins < 2 or settings.top_categories < 1 or settings.max_examples < 0:
            raise ConfigError("config validation: bins must be >= 2, top_categories >= 1, max_examples >= 0")
        return settings
