"""One record type for every check the gate runs (expectations, constraints, drift), so that the
decision and the reports treat them alike."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CRITICAL = "critical"
WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    """The outcome of one check: what was checked, how bad a failure is, and what a person needs to see."""

    source: str  # "expectation", "constraint" or "drift"
    name: str  # e.g. "expect_column_values_to_not_be_null(CONTENT)"
    severity: str  # CRITICAL blocks, WARNING only reports
    passed: bool
    detail: str  # one readable line, e.g. "3 of 1956 rows (0.15%)"
    failing_rows: int | None = None
    examples: tuple[str, ...] = field(default_factory=tuple)

    @property
    def blocks(self) -> bool:
        return not self.passed and self.severity == CRITICAL

    def line(self) -> str:
        """``name: detail`` plus a few example values, for the gate reason and the Markdown report."""
        text = f"{self.name}: {self.detail}"
        if self.examples:
            text += f", e.g. {', '.join(self.examples)}"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source, "name": self.name, "severity": self.severity, "passed": self.passed,
            "detail": self.detail, "failing_rows": self.failing_rows, "examples": list(self.examples),
        }


def shorten(value: Any, limit: int = 60) -> str:
    """A value as a short quoted string for reports (long texts are cut, newlines shown as spaces)."""
    text = str(value).replace("\n", " ").replace("\r", " ")
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return repr(text)
