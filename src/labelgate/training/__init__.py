"""labelgate.training: the end model. ``load_predictor`` is numpy-only; training (torch) lives in
``labelgate.training.trainer`` and the pipeline step in ``labelgate.training.step``.

``Predictor`` and ``load_predictor`` load on first use, so reading ``labelgate.training.settings`` (every
step's preflight does) does not import sklearn's feature hashing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from labelgate.training.predictor import Predictor, load_predictor

__all__ = ["Predictor", "load_predictor"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from labelgate.training import predictor

        return getattr(predictor, name)
    raise AttributeError(f"module 'labelgate.training' has no attribute {name!r}")
