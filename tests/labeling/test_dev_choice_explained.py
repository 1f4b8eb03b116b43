"""The weak-label step says why the label model kept its choice although another candidate scored higher on
the dev rows (or why it switched): the numbers come from the same paired comparison that decided."""

from __future__ import annotations

import numpy as np

from labelgate.labeling.model import LabelModel
from labelgate.labeling.model.selection import DEV_Z, explain_dev_choice


def _report(default: str, choice: str, rows: int, net: dict[str, tuple[int, float]]) -> dict:
    return {"default": default, "rows": rows, "choice": choice,
            "candidates": {n: {"accuracy": 0.5, "stderr": 0.05, "gain_vs_default": g / rows, "z_vs_default": z}
                           for n, (g, z) in net.items()}}


def test_a_kept_choice_names_the_closest_challenger_and_its_margin() -> None:
    report = _report("matrix_completion", "matrix_completion", 100,
                     {"matrix_completion": (0, 0.0), "majority_vote": (6, 1.5), "dev_naive_bayes": (9, 2.1)})
    line = explain_dev_choice(report)
    assert line.startswith("kept matrix_completion")
    assert "100 dev rows" in line and f"by more than {DEV_Z:g} standard deviations" in line
    assert "closest: dev_naive_bayes, +9 rows net, z 2.100" in line


def test_a_switch_says_from_what_to_what_and_by_how_much() -> None:
    report = _report("matrix_completion", "majority_vote", 400,
                     {"matrix_completion": (0, 0.0), "majority_vote": (30, 4.2)})
    assert explain_dev_choice(report) == ("switched from matrix_completion to majority_vote on the 400 dev rows: "
                                          "+30 rows net, z 4.200")


def test_no_dev_comparison_explains_nothing() -> None:
    assert explain_dev_choice({}) == ""


def test_the_line_matches_a_real_fit() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 600)
    L = np.where(rng.random((600, 5)) < 0.6, np.where(rng.random((600, 5)) < 0.8, y[:, None], 1 - y[:, None]), -1)
    model = LabelModel(cardinality=2, seed=0).fit(L[:500], L_dev=L[500:], Y_dev=y[500:])
    line = explain_dev_choice(model.dev_selection)
    kept = model.dev_selection["choice"] == model.dev_selection["default"]
    assert line.startswith(f"kept {model.selected_method}" if kept else "switched from")
    assert "on the 100 dev rows" in line
