"""labelgate.training: the end model. ``load_predictor`` is numpy-only; training (torch) lives in
``labelgate.training.trainer`` and the pipeline step in ``labelgate.training.step``."""

from labelgate.training.predictor import Predictor, load_predictor

__all__ = ["Predictor", "load_predictor"]
