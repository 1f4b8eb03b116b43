"""Shared fixtures: paths to the example data and config, tiny raw tables written to tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_DATA = ROOT.parent / "shared" / "data" / "youtube-spam"
EXAMPLE_CONFIG = ROOT / "examples" / "youtube_spam" / "config.yaml"


@pytest.fixture(scope="session")
def example_data() -> Path:
    if not EXAMPLE_DATA.exists():
        pytest.skip(f"example data not found at {EXAMPLE_DATA}; run `make data`")
    return EXAMPLE_DATA


@pytest.fixture(scope="session")
def example_config() -> Path:
    return EXAMPLE_CONFIG
