"""Typed settings for the ``monitoring`` section of the pipeline config. The drift thresholds themselves are
the champion's own ``validation`` section (from the config it was trained with), as the data gate uses them."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from labelgate.config import SectionSettings


class MonitoringSettings(SectionSettings):
    """How much traffic a verdict needs."""

    section: ClassVar[str] = "monitoring"

    # Fewer logged rows in the window than this: no verdict (exit 1 with a message), since distances on a
    # handful of texts are noise. On the example, text-length JS distance between undrifted samples and the
    # profile (20 bins; max of 20 draws, bench/monitoring.py): 0.36 at 50 rows, 0.24 at 100, 0.17 at 200,
    # 0.15 at 300 -- 300 keeps chance below the 0.2 threshold.
    min_rows: int = Field(300, ge=1)
