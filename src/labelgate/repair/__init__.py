"""Data repair: detect dirty cells and repair them by learned inference over candidate values
(HoloClean-style), with an attention imputer (AimNet-style) as a signal and for nulls."""

from labelgate.repair.repairer import RepairResult, repair_frame
from labelgate.repair.settings import RepairSettings

__all__ = ["RepairResult", "RepairSettings", "repair_frame"]
