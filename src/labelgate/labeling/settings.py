"""Typed settings for the ``labeling`` section of the pipeline config."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from labelgate.config import check_keys, take
from labelgate.errors import ConfigError

LABEL_MODELS = ("auto", "majority_vote", "matrix_completion", "one_coin", "dawid_skene", "dawid_skene_abstain")


@dataclass(frozen=True)
class LabelingSettings:
    """How the weak_label step applies LFs and which label model it fits. ``select_on_dev``: the dev
    labels may switch the label model to a clearly better candidate; when false they only estimate the
    class balance (Snorkel's use of ``Y_dev``)."""

    label_model: str = "auto"
    class_balance: tuple[float, ...] | None = None
    max_iter: int = 100
    max_fit_rows: int | None = 100_000
    chunk_size: int = 100_000
    n_jobs: int = 1
    fault_tolerant: bool = False
    device: str = "auto"
    select_on_dev: bool = True

    @classmethod
    def from_section(cls, section: dict[str, Any]) -> LabelingSettings:
        known = {"label_model", "class_balance", "max_iter", "max_fit_rows", "chunk_size", "n_jobs",
                 "fault_tolerant", "device", "select_on_dev"}
        check_keys(section, known, "labeling")
        balance = take(section, "class_balance", None, list, "labeling")
        settings = cls(
            label_model=take(section, "label_model", cls.label_model, str, "labeling"),
            class_balance=None if balance is None else tuple(float(v) for v in balance),
            max_iter=take(section, "max_iter", cls.max_iter, int, "labeling"),
            max_fit_rows=take(section, "max_fit_rows", cls.max_fit_rows, int, "labeling"),
            chunk_size=take(section, "chunk_size", cls.chunk_size, int, "labeling"),
            n_jobs=take(section, "n_jobs", cls.n_jobs, int, "labeling"),
            fault_tolerant=take(section, "fault_tolerant", cls.fault_tolerant, bool, "labeling"),
            device=take(section, "device", cls.device, str, "labeling"),
            select_on_dev=take(section, "select_on_dev", cls.select_on_dev, bool, "labeling"),
        )
        if settings.label_model not in LABEL_MODELS:
            raise ConfigError(f"config labeling.label_model must be one of {list(LABEL_MODELS)}, "
                              f"got {settings.label_model!r}")
        if settings.max_iter < 1 or settings.chunk_size < 1:
            raise ConfigError("config labeling.max_iter and labeling.chunk_size must be positive")
        if settings.max_fit_rows is not None and settings.max_fit_rows < 1:
            raise ConfigError("config labeling.max_fit_rows must be positive (or null for every row)")
        return settings
