"""Typed settings for the ``validation`` section of the pipeline config: drift thresholds and what to profile."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal, get_args

from pydantic import Field

from labelgate.config import SectionSettings

Severity = Literal["critical", "warning"]
SEVERITIES: tuple[str, ...] = get_args(Severity)

Distance = Annotated[float, Field(ge=0.0, le=1.0)]
Columns = Annotated[tuple[str, ...], Field(strict=False)]


class ValidationSettings(SectionSettings):
    """Thresholds of the data gate. Distances are in [0, 1]; a drift finding above its threshold has
    ``drift_severity`` (critical blocks, warning only reports)."""

    section: ClassVar[str] = "validation"

    # Jensen-Shannon distance (base 2) between binned numeric / text-length distributions.
    max_js_distance: Distance = 0.2
    # L-infinity distance (largest absolute change of one category's share) for categorical columns.
    max_linf_distance: Distance = 0.2
    # An LF's coverage may drop by this fraction of the champion's coverage (a larger rise is a warning) ...
    max_lf_coverage_change: float = Field(0.5, ge=0.0)
    # ... but changes smaller than this absolute amount are noise and never count.
    min_lf_coverage_change: Distance = 0.03
    # L-infinity distance between the label model's predicted class balances.
    max_class_balance_shift: Distance = 0.15
    # Columns profiled for drift: text columns by their length in characters, numeric ones as they are,
    # categorical ones by the share of each value (the ``top_categories`` most common; the rest pooled).
    length_columns: Columns = ("CONTENT",)
    numeric_columns: Columns = ()
    categorical_columns: Columns = ("CLASS",)
    top_categories: int = Field(50, ge=1)
    bins: int = Field(20, ge=2)
    drift_severity: Severity = "critical"
    constraint_severity: Severity = "critical"
    # How many example values / rows a report shows per failed check.
    max_examples: int = Field(5, ge=0)
