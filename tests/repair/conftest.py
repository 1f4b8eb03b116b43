"""Tiny tables with known dependencies and injected errors, and small model sizes so tests stay quick."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from labelgate.repair.settings import RepairSettings

CONSTRAINTS = """t1&t2&EQ(t1.zip,t2.zip)&IQ(t1.city,t2.city)
t1&t2&EQ(t1.city,t2.city)&IQ(t1.state,t2.state)
"""


def clean_table(n: int = 240, seed: int = 0) -> pd.DataFrame:
    """zip -> city -> state, and product -> category: dependencies a repair can learn from."""
    rng = np.random.default_rng(seed)
    cities = {"10001": ("new york", "ny"), "60601": ("chicago", "il"), "94105": ("san francisco", "ca"),
              "73301": ("austin", "tx"), "98101": ("seattle", "wa"), "02108": ("boston", "ma")}
    products = {"apple": "fruit", "pear": "fruit", "kale": "vegetable", "leek": "vegetable", "salmon": "fish"}
    zips = rng.choice(list(cities), n)
    items = rng.choice(list(products), n)
    return pd.DataFrame({
        "zip": zips, "city": [cities[z][0] for z in zips], "state": [cities[z][1] for z in zips],
        "product": items, "category": [products[p] for p in items],
    })


@pytest.fixture
def small_settings() -> RepairSettings:
    return RepairSettings(imputer_dim=16, imputer_heads=2, imputer_steps=60, imputer_batch=64, model_epochs=60,
                          max_training_cells=1500, threshold=0.6)


@pytest.fixture
def dirty():
    """The clean table and a copy with a typo, a wrong city for its zip, and a null."""
    clean = clean_table()
    frame = clean.copy()
    frame.loc[3, "city"] = "chicxgo" if clean.loc[3, "city"] == "chicago" else "chicxgo"
    frame.loc[10, "state"] = "zz"
    frame.loc[20, "category"] = None
    return clean, frame


@pytest.fixture
def constraints_text() -> str:
    return CONSTRAINTS
