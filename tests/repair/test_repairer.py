

import numpy as np
import pandas as pd

from labelgate.repair.repairer import repair_frame
from labelgate.validation.constraints import parse_constraints


def _changed(result):
    return {(int(r), c): n for r, c, n in zip(result.changes["row"], result.changes["column"],
                                              result.changes["new"], strict=True)}


def test_typo_constraint_violation_and_null_are_repaired(dirty, constraints_text, small_settings):
    clean, frame = dirty
    result = repair_frame(frame, parse_constraints(constraints_text), small_settings)
    changed = _changed(result)
    for row, column in ((3, "city"), (10, "state"), (20, "category")):
        assert changed.get((row, column)) == clean.at[row, column], (row, column, changed)
    # Clean cells stay as they were.
    assert set(changed) <= {(3, "city"), (10, "state"), (20, "category")}
    pd.testing.assert_frame_equal(result.repaired, clean)
    assert result.changes["probability"].between(small_settings.threshold, 1.0).all()
    assert result.metrics["cells_repaired"] == len(result.changes) == 3


def test_below_the_threshold_cells_are_flagged_not_changed(dirty, constraints_text, small_settings):
    _, frame = dirty
    result = repair_frame(frame, parse_constraints(constraints_text), small_settings.model_copy(update={"threshold": 1.0}))
    assert result.changes.empty
    pd.testing.assert_frame_equal(result.repaired, frame)
    flagged = set(zip(result.flagged["row"], result.flagged["column"], strict=True))
    assert {(3, "city"), (10, "state"), (20, "category")} <= flagged
    assert (result.flagged["probability"] < 1.0).all()


def test_dtypes_survive_and_excluded_columns_are_left(dirty, small_settings):
    clean, frame = dirty
    frame["qty"] = pd.array(np.arange(len(frame)) % 4, dtype="Int64")
    frame["score"] = np.linspace(0, 1, len(frame))
    result = repair_frame(frame, [], small_settings.model_copy(update={"exclude_columns": ("category",)}))
    assert result.repaired.dtypes.to_dict() == frame.dtypes.to_dict()
    assert "category" not in set(result.changes["column"]) | set(result.flagged["column"])
    assert pd.isna(result.repaired.at[20, "category"])


def test_structural_nulls_stay_null(small_settings):
    # "note" is null exactly when kind is "b": a null there is a value, not an error.
    rng = np.random.default_rng(1)
    kind = rng.choice(["a", "b"], 300)
    frame = pd.DataFrame({"kind": kind, "note": np.where(kind == "a", "has note", None)})
    result = repair_frame(frame, [], small_settings)
    assert not (result.changes["column"] == "note").any()


def test_a_swapped_key_is_repaired_not_its_dependent_values(constraints_text, small_settings):
    from tests.repair.conftest import clean_table

    clean = clean_table()
    frame = clean.copy()
    other = frame.loc[frame["zip"] != clean.at[7, "zip"], "zip"].iloc[0]
    frame.loc[7, "zip"] = other  # city and state of row 7 are right; its zip is another city's
    result = repair_frame(frame, parse_constraints(constraints_text), small_settings)
    changed = _changed(result)
    assert (7, "city") not in changed and (7, "state") not in changed
    assert changed.get((7, "zip")) == clean.at[7, "zip"]
