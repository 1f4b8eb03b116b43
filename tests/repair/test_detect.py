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
    # Nothing else: the clean cells of this table repeat, agree with the constraints and are not null.
    assert set(cells) == {(3, "city"), (10, "state"), (20, "category"), (30, "amount")}


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
