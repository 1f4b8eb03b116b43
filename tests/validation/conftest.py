"""Fixtures for the validation tests (helpers live in tiny.py)."""

from __future__ import annotations

import pandas as pd
import pytest

from .tiny import SUITE, make_frame


@pytest.fixture
def frame() -> pd.DataFrame:
    return make_frame()


@pytest.fixture
def suite() -> dict:
    return {"name": SUITE["name"], "expectations": [dict(e) for e in SUITE["expectations"]]}
