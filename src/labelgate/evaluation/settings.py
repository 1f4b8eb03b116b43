"""Typed settings for the ``evaluation`` section of the pipeline config."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal, get_args

from pydantic import AfterValidator, Field

from labelgate.config import SectionSettings
from labelgate.errors import ConfigError

PrimaryMetric = Literal["accuracy", "f1"]
PRIMARY_METRICS: tuple[str, ...] = get_args(PrimaryMetric)


def _increasing(edges: tuple[int, ...]) -> tuple[int, ...]:
    if not all(e > 0 for e in edges) or list(edges) != sorted(set(edges)):
        raise ValueError("must be increasing positive integers")
    return edges


class EvaluationSettings(SectionSettings):
    """How the gold test split is scored and how a challenger is compared with the champion.

    ``primary_metric`` is the one bootstrapped against the champion; ``positive_class`` names the class
    that precision/recall/F1 and the ROC curve are about (binary tasks; multi-class uses macro averages);
    ``length_buckets`` are character-count edges for the per-length slices."""

    section: ClassVar[str] = "evaluation"

    primary_metric: PrimaryMetric = "accuracy"
    positive_class: str | None = None

    def positive_index(self, classes: list[str], source: str | None = None) -> int:
        """The index of the class binary precision/recall/F1 are about: ``positive_class``, else the second
        class. Multi-class tasks use macro averages: ``positive_class`` is ignored there."""
        if len(classes) != 2 or self.positive_class is None:
            return 1 if len(classes) == 2 else 0
        if self.positive_class not in classes:
            raise ConfigError(
                f"config {source or ''}{': ' if source else ''}evaluation.positive_class {self.positive_class!r} "
                f"is not one of data.classes {classes}; set it to one of them or remove it (default: the second "
                f"class, {classes[1]!r})")
        return classes.index(self.positive_class)

    def averaging(self, classes: list[str]) -> str:
        """How precision/recall/F1 are averaged, in words for reports and summaries."""
        if len(classes) == 2:
            return f"binary, positive class {classes[self.positive_index(classes)]!r}"
        return f"macro average over {len(classes)} classes"
    bootstrap_resamples: int = Field(2000, ge=100)
    confidence: float = Field(0.95, gt=0.5, lt=1.0)
    calibration_bins: int = Field(10, ge=2)
    length_buckets: Annotated[tuple[int, ...], Field(strict=False), AfterValidator(_increasing)] = (40, 80, 160)
