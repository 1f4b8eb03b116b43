import numpy as np
import pandas as pd

from labelgate.repair.imputer import AttentionImputer
from labelgate.repair.table import encode


def test_the_imputer_learns_a_dependency_that_the_mode_misses():
    rng = np.random.default_rng(0)
    key = rng.choice(list("abcdef"), 600)
    frame = pd.DataFrame({"key": key, "value": [f"v_{k}" for k in key], "noise": rng.choice(list("xyz"), 600)})
    table = encode(frame, continuous_min_distinct=50)
    unknown = np.zeros((600, 3), dtype=bool)
    unknown[rng.random(600) < 0.2, 1] = True
    imputer = AttentionImputer(table, dim=16, heads=2, seed=0)
    losses = imputer.fit(np.arange(600), unknown, steps=150, batch=64, lr=1e-2)
    rows = np.flatnonzero(unknown[:, 1])
    predicted = imputer.log_proba(rows, 1, unknown, allow_null=False).argmax(axis=1)
    accuracy = float((predicted == table.columns[1].codes[rows]).mean())
    mode_accuracy = float((frame["value"].iloc[rows] == frame["value"][~unknown[:, 1]].mode()[0]).mean())
    assert np.mean(losses[-10:]) < np.mean(losses[:10])
    assert accuracy > 0.9 > mode_accuracy + 0.3


def test_continuous_targets_are_regressed():
    rng = np.random.default_rng(0)
    group = rng.choice(["lo", "hi"], 400)
    frame = pd.DataFrame({"group": group, "amount": np.where(group == "lo", 10.0, 100.0) + rng.normal(0, 1, 400)})
    table = encode(frame, continuous_min_distinct=20)
    assert table.columns[1].kind == "continuous"
    unknown = np.zeros((400, 2), dtype=bool)
    unknown[:40, 1] = True
    imputer = AttentionImputer(table, dim=16, heads=2, seed=0)
    imputer.fit(np.arange(400), unknown, steps=150, batch=64, lr=1e-2)
    predicted = imputer.predict_number(np.arange(40), 1, unknown)
    truth = frame["amount"].to_numpy()[:40]
    assert np.mean(np.abs(predicted - truth)) < 15 < np.mean(np.abs(truth - truth.mean()))
