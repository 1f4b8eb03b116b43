"""Typed settings for the ``evaluation`` section of the pipeline config."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from labelgate.config import check_keys, take
from labelgate.errors import ConfigError

PRIMARY_METRICS = ("accuracy", "f1")


@dataclass(frozen=True)
class EvaluationSettings:
    """How the gold test split is scored and how a challenger is compared with the champion.

    ``primary_metric`` is the one bootstrapped against the champion; ``positive_class`` names the class
    that precision/recall/F1 and the ROC curve are about (binary tasks; multi-class uses macro averages);
    ``length_buckets`` are character-count edges for the per-length slices."""

    primary_metric: str = "accuracy"
    positive_class: str = "spam"
    bootstrap_resamples: int = 2000
    confidence: float = 0.95
    calibration_bins: int = 10
    length_buckets: tuple[int, ...] = (40, 80, 160)

    @classmethod
    def from_section(cls, section: dict[str, Any]) -> EvaluationSettings:
        where = "evaluation"
        check_keys(section, set(cls.__dataclass_fields__), where)
        buckets = take(section, "length_buckets", list(cls.length_buckets), list, where)
        settings = cls(
            primary_metric=take(section, "primary_metric", cls.primary_metric, str, where),
            positive_class=take(section, "positive_class", cls.positive_class, str, where),
            bootstrap_resamples=take(section, "bootstrap_resamples", cls.bootstrap_resamples, int, where),
            confidence=float(take(section, "confidence", cls.confidence, (int, float), where)),
            calibration_bins=take(section, "calibration_bins", cls.calibration_bins, int, where),
            length_buckets=tuple(buckets),
        )
        settings.check()
        return settings

    def check(self) -> None:
        """Reject values the gate cannot use, naming the key to fix."""
        if self.primary_metric not in PRIMARY_METRICS:
            raise ConfigError(f"config evaluation.primary_metric must be one of {list(PRIMARY_METRICS)}, "
                              f"got {self.primary_metric!r}")
        if self.bootstrap_resamples < 100:
            raise ConfigError("config evaluation.bootstrap_resamples must be at least 100")
        if not 0.5 < self.confidence < 1:
            raise ConfigError(f"config evaluation.confidence must be in (0.5, 1), got {self.confidence}")
        if self.calibration_bins < 2:
            raise ConfigError("config evaluation.calibration_bins must be at least 2")
        edges = self.length_buckets
        if not all(isinstance(e, int) and e > 0 for e in edges) or list(edges) != sorted(set(edges)):
            raise ConfigError(f"config evaluation.length_buckets must be increasing positive integers, got {list(edges)}")
