import pandas as pd

from labelgate.repair.report import render_html, render_markdown

METRICS = {"rows": 10, "columns": 3, "cells_detected": 3, "cells_repaired": 1, "cells_left_flagged": 1,
           "threshold": 0.8, "seconds": 0.5}


def _tables():
    changes = pd.DataFrame({"row": [3], "column": ["city"], "old": ["chicxgo"], "new": ["chicago"],
                            "probability": [0.97], "why": ["value seen once in a column whose values repeat"]})
    flagged = pd.DataFrame({"row": [7], "column": ["state"], "old": [None], "new": ["<b>il</b>"],
                            "probability": [0.41], "why": ["null"]})
    return changes, flagged


def test_markdown_lists_each_change_and_each_flag():
    changes, flagged = _tables()
    text = render_markdown(changes, flagged, METRICS)
    assert text.startswith("# Data repair: 1 cell changed")
    assert "| 3 | city | chicxgo | chicago | 0.970 | value seen once" in text
    assert "| 7 | state | (null) | <b>il</b> | 0.410 | null |" in text
    assert "| seconds | 0.5 |" in text


def test_html_escapes_values_and_shows_old_and_new():
    changes, flagged = _tables()
    page = render_html(changes, flagged, METRICS)
    assert '<td class="old">chicxgo</td>' in page and '<td class="new">chicago</td>' in page
    assert "&lt;b&gt;il&lt;/b&gt;" in page and "<b>il</b>" not in page


def test_long_reports_are_cut_and_say_so():
    changes, flagged = _tables()
    many = pd.concat([changes] * 5, ignore_index=True)
    text = render_markdown(many, flagged.iloc[:0], METRICS, max_rows=2)
    assert "(first 2 of 5)" in text and text.count("| chicxgo |") == 2
    assert "None." in text
