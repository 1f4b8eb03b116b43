"""Typed settings for the ``repair`` section of the pipeline config: what counts as an error, how sure a
repair must be, and the sizes of the two models (the repair model and the attention imputer)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, ClassVar

from pydantic import Field, model_validator

from labelgate.config import SectionSettings, load_config

SECTION = "repair"
# A YAML list of column names (strict mode would refuse a list for a tuple).
Columns = Annotated[tuple[str, ...], Field(strict=False)]


class RepairSettings(SectionSettings):
    """Repair thresholds and model sizes. Defaults are general, not fitted to any one table."""

    section: ClassVar[str] = SECTION

    # Columns to check and repair (empty: every column); columns never touched (ids, free text, splits).
    columns: Columns = ()
    exclude_columns: Columns = ()
    # A repair is applied when its probability reaches this; below it the cell is left and flagged
    # (1.0: report only, nothing is changed).
    threshold: float = Field(0.8, ge=0.0, le=1.0)
    # Detection: nulls, denial-constraint suspects, values seen once in a column whose values repeat,
    # numbers far outside their column's distribution (robust z-score), values missing from a dictionary.
    detect_nulls: bool = True
    detect_rare: bool = True
    # A column takes part in rare-value detection when at most this share of its rows hold a value seen once.
    max_singleton_fraction: float = Field(0.1, ge=0.0, le=1.0)
    outlier_z: float = Field(6.0, gt=0)
    # Flags that cover every row of some group of another column are a pattern of the data, not errors,
    # when independent errors would do that with probability below this.
    pattern_significance: float = Field(1e-4, ge=0.0, le=0.5)
    # Numeric columns with more distinct values than this are continuous (imputed by regression).
    continuous_min_distinct: int = Field(50, gt=0)
    # Candidate values scored per dirty cell, and how many each other attribute proposes.
    max_candidates: int = Field(20, ge=2)
    candidates_per_source: int = Field(3, gt=0)
    # External dictionaries: column -> file of allowed values (one per line).
    dictionaries: dict[str, str] = Field(default_factory=dict)
    # Repair model (log-linear over candidates, trained on clean cells).
    max_training_cells: int = Field(20_000, gt=0)
    holdout_fraction: float = Field(0.2, ge=0.05, le=0.5)
    model_epochs: int = Field(200, gt=0)
    # Attention imputer (AimNet-style).
    imputer_dim: int = Field(32, gt=0)
    imputer_heads: int = Field(4, gt=0)
    imputer_steps: int = Field(300, gt=0)
    imputer_batch: int = Field(256, gt=0)
    imputer_max_rows: int = Field(200_000, gt=0)
    max_categories: int = Field(2000, gt=0)
    # Refuse tables whose estimated working memory exceeds this (shard by a blocking key instead).
    max_memory_gb: float = Field(8.0, gt=0)
    # Torch threads while repairing: the models are small, one thread avoids thread contention;
    # parallelism comes from sharding the table.
    torch_threads: int = Field(1, gt=0)
    max_report_rows: int = Field(200, ge=0)
    seed: int = 0

    @model_validator(mode="after")
    def _heads_divide_dim(self) -> RepairSettings:
        if self.imputer_dim % self.imputer_heads:
            raise ValueError(f"imputer_dim ({self.imputer_dim}) must be a multiple of imputer_heads "
                             f"({self.imputer_heads})")
        return self


def repair_settings(config_path: str | Path) -> RepairSettings | None:
    """The config's repair settings, or None when the config has no ``repair`` section (repair is off)."""
    section = load_config(config_path)[SECTION]
    return RepairSettings.from_section(section) if section.present else None
