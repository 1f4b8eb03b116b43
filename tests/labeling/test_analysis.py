import numpy as np
import pytest

from labelgate.labeling.analysis import lf_summary, plot_coverage_accuracy, to_html, to_markdown, totals

# 5 rows x 3 LFs, worked out by hand below.
L = np.array([
    [0, 0, -1],
    [0, 1, -1],
    [-1, 1, 1],
    [-1, -1, -1],
    [1, -1, 0],
])
Y = np.array([0, 1, 1, -1, 0])  # row 3 has no gold label


def test_summary_matches_hand_computed_numbers():
    table = lf_summary(L, ["a", "b", "c"], y=Y, weights=np.array([0.9, 0.8, 0.7]), failures={"b": 2})
    assert table["polarity"].tolist() == [[0, 1], [0, 1], [0, 1]]
    np.testing.assert_allclose(table["coverage"], [3 / 5, 3 / 5, 2 / 5])
    # a overlaps on rows 0, 1, 4; b on rows 0, 1, 2; c on rows 2, 4.
    np.testing.assert_allclose(table["overlaps"], [3 / 5, 3 / 5, 2 / 5])
    # a conflicts on rows 1 (b says 1) and 4 (c says 0); b on row 1; c on row 4.
    np.testing.assert_allclose(table["conflicts"], [2 / 5, 1 / 5, 1 / 5])
    # a: rows 0 (0=0 ok), 1 (0!=1), 4 (1!=0) -> 1/3; b: rows 0 ok, 1 ok, 2 ok -> 3/3; c: row 2 ok, 4 ok -> 2/2
    assert table["correct"].tolist() == [1, 3, 2]
    assert table["incorrect"].tolist() == [2, 0, 0]
    np.testing.assert_allclose(table["emp_accuracy"], [1 / 3, 1.0, 1.0])
    assert table["failures"].tolist() == [0, 2, 0]


def test_totals_count_rows_with_votes_overlaps_and_conflicts():
    assert totals(L) == pytest.approx({"coverage": 4 / 5, "overlap": 4 / 5, "conflict": 2 / 5})


def test_reports_render_every_lf_and_the_plot(tmp_path):
    table = lf_summary(L, ["a", "b", "c"], y=Y)
    markdown = to_markdown(table, {"label model": "x"})
    assert markdown.count("\n| ") == 5  # header, separator, 3 LFs and "**label model**: x" in markdown
    png = plot_coverage_accuracy(table, tmp_path / "plot.png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and (tmp_path / "plot.png").read_bytes() == png
    page = to_html(table, {"k": "<v>"}, png)
    assert "&lt;v&gt;" in page and page.count("<tr>") == 4 and "base64," in page
