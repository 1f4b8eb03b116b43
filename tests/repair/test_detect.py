import numpy as np

from labelgate.repair.detect import detect_errors
from labelgate.repair.settings import RepairSettings
from labelgate.repair.table import encode
from labelgate.validation.constraints import parse_constraints


def _cells(detection, table):
    return {(int(r), table.columns[c].name): why for r, c, why in
            zip(detection.rows, detection.cols, detection.reasons, strict=True)}


def test_each_reason_is_detected_and_clean_cells_are_not(dirty, constraints_text):
    clean, frame = dirty
    frame["amount"] = np.linspace(10, 20, len(frame))
    frame.loc[30, "amount"] = 1e6
    table = encode(frame, continuous_min_distinct=50)
    detection = detect_errors(frame, table, parse_constraints(constraints_text), RepairSettings(),
                              list(range(frame.shape[1])))
    cells = _cells(detection, table)
    assert "seen once" in cells[(3, "city")]
    assert "violates constraint line 2" in cells[(10, "state")]
    assert cells[(20, "category")] == "null"
    assert "distribution" in cells[(30, "amount")]
    # The keys of the violations are candidates too (a swapped key would look the same).
    assert cells[(3, "zip")] == "key of a violation of constraint line 1"
    assert cells[(10, "city")] == "key of a violation of constraint line 2"
    # Nothing else: the clean cells of this table repeat, agree with the constraints and are not null.
    assert set(cells) == {(3, "city"), (10, "state"), (20, "category"), (30, "amount"), (3, "zip"), (10, "city")}


def test_rare_values_are_not_flagged_in_columns_whose_values_do_not_repeat(dirty):
    _, frame = dirty
    frame["comment"] = [f"note {i}" for i in range(len(frame))]
    table = encode(frame, continuous_min_distinct=50)
    detection = detect_errors(frame, table, [], RepairSettings(), [table.index("comment")])
    assert len(detection) == 0


def test_detection_can_be_switched_off(dirty):
    _, frame = dirty
    table = encode(frame, continuous_min_distinct=50)
    settings = RepairSettings(detect_nulls=False, detect_rare=False)
    assert len(detect_errors(frame, table, [], settings, list(range(frame.shape[1])))) == 0


def test_flags_covering_a_whole_group_are_a_pattern_not_errors():
    # measure -> average holds except in state "ak", whose 8 rows all have their own averages: the
    # constraint misses the state. One independent typo elsewhere stays flagged.
    rng = np.random.default_rng(0)
    states = np.array(["al"] * 200 + ["ak"] * 8)
    measures = np.r_[rng.choice(["m1", "m2", "m3", "m4"], 200), ["m1", "m2", "m3", "m4"] * 2]
    average = np.array([f"al_{m}" for m in measures], dtype=object)
    average[200:] = [f"ak_{m}_{i}" for i, m in enumerate(measures[200:])]
    average[5] = "al_mx"
    import pandas as pd
    frame = pd.DataFrame({"state": states, "measure": measures, "average": average})
    table = encode(frame, continuous_min_distinct=50)
    constraints = parse_constraints("t1&t2&EQ(t1.measure,t2.measure)&IQ(t1.average,t2.average)")
    cells = _cells(detect_errors(frame, table, constraints, RepairSettings(), [2]), table)
    assert set(cells) == {(5, "average")}
    strict = RepairSettings(pattern_significance=1e-30)  # 8 rows are not evidence enough at this level
    cells = _cells(detect_errors(frame, table, constraints, strict, [2]), table)
    assert {(r, "average") for r in range(200, 208)} <= set(cells)


def test_singleton_error_share_tells_a_genuine_long_tail_from_typos():
    """Genuine rare values follow the column's frequency tail (many values seen 2, 3, ... times too); typos in a
    column whose values repeat are singletons with no such tail behind them."""
    import numpy as np

    from labelgate.repair.detect import singleton_error_share

    rng = np.random.default_rng(0)
    long_tail = rng.zipf(1.3, 4000) % 500 + 1  # customer ids: many seen once, fewer twice, ...
    assert singleton_error_share(long_tail) < 0.2
    repeated = rng.integers(1, 30, 4000)  # 29 values, each seen ~140 times
    with_typos = np.concatenate([repeated, np.arange(100, 140)])  # plus 40 typos, each seen once
    assert singleton_error_share(with_typos) == 1.0
    assert singleton_error_share(repeated) == 1.0  # no singletons at all: nothing to discount
