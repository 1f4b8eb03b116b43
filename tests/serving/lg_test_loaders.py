"""Predictor loaders that behave differently inside the server subprocess (for infra-validation tests).

The test process sets LG_TEST_PARENT_PID; any other process (the server) is "the server"."""

from __future__ import annotations

import os
from pathlib import Path

from labelgate.training import load_predictor


def _in_server() -> bool:
    return str(os.getpid()) != os.environ.get("LG_TEST_PARENT_PID")


class _Shifted:
    def __init__(self, inner: object):
        self.inner = inner
        self.classes = inner.classes

    def predict_proba(self, texts):  # a served model that is not the evaluated one
        probs = self.inner.predict_proba(texts)
        return probs[:, ::-1].copy()


def skewed(model_dir: Path) -> object:
    predictor = load_predictor(model_dir)
    return _Shifted(predictor) if _in_server() else predictor


def crashing(model_dir: Path) -> object:
    if _in_server():
        raise RuntimeError("libfoo.so: cannot open shared object file")
    return load_predictor(model_dir)
