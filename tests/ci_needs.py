"""`needs`: how a test says it needs a tool or a file (kept out of conftest.py, which sub-folders shadow)."""

from __future__ import annotations

import os

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def needs(available: bool, reason: str) -> None:
    """Skip when a tool or file a test needs is missing, with the reason; under CI=true, where .ci/run
    provides everything, fail instead, so nothing CI should run is ever skipped silently."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)
