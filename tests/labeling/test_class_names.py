"""An LF may vote a class name from data.classes instead of its index."""

import pandas as pd
import pytest

from labelgate.errors import LabelingError
from labelgate.labeling import ABSTAIN, LFApplier, keyword_lf, labeling_function

FRAME = pd.DataFrame({"text": ["refund please", "app crashes", "hello"]})
CLASSES = ("billing", "bug")


@labeling_function()
def crash_row(x):
    return "bug" if "crash" in x.text else ABSTAIN


def test_names_become_indices_in_vectorised_and_per_row_lfs():
    refund = keyword_lf("refund", ["refund"], label="billing", column="text")
    matrix = LFApplier([refund, crash_row], cardinality=2, classes=CLASSES).apply(FRAME)
    assert matrix.tolist() == [[0, -1], [-1, 1], [-1, -1]]


def test_an_unknown_name_lists_the_classes():
    typo = keyword_lf("typo", ["refund"], label="biling", column="text")
    with pytest.raises(LabelingError, match=r"'typo' returned 'biling' on row 0; return a class index, a class "
                                            r"name from data.classes \['billing', 'bug'\] or ABSTAIN"):
        LFApplier([typo], cardinality=2, classes=CLASSES).apply(FRAME)
