"""Data repair: detect dirty cells and repair them by learned inference over candidate values
(HoloClean-style), with an attention imputer (AimNet-style) as a signal and for nulls.

The repairer (PyTorch) loads on first use of ``repair_frame`` or ``RepairResult``: steps that only read the
``repair`` settings (preflight, ingest, a run with repair off) start without importing torch."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from labelgate.repair.settings import RepairSettings

if TYPE_CHECKING:
    from labelgate.repair.repairer import RepairResult, repair_frame

__all__ = ["RepairResult", "RepairSettings", "repair_frame"]


def __getattr__(name: str) -> Any:
    if name in ("RepairResult", "repair_frame"):
        from labelgate.repair import repairer

        return getattr(repairer, name)
    raise AttributeError(f"module 'labelgate.repair' has no attribute {name!r}")
