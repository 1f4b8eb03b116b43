"""The one HTML rendering path: templates ship with the package and user text is always escaped."""

import numpy as np

from labelgate.labeling.analysis import lf_summary, to_html
from labelgate.rendering import environment, markdown_html, render
from labelgate.validation.findings import Finding
from labelgate.validation.report import render_html

SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def test_environment_is_shared_and_autoescapes():
    assert environment() is environment()
    assert environment().autoescape is True
    assert set(environment().list_templates()) >= {"evaluation_report.html", "lf_analysis.html",
                                                   "validation_summary.html", "validation_page.html"}


def test_render_escapes_values():
    page = render("validation_page.html", summary=SCRIPT)
    assert SCRIPT not in page and ESCAPED in page


def test_an_lf_name_with_markup_stays_escaped_in_the_lf_analysis():
    table = lf_summary(np.array([[0, 1], [1, -1]]), [SCRIPT, "plain"], y=np.array([0, 1]))
    page = to_html(table, {"note": "<b>bold?</b>"})
    assert SCRIPT not in page and ESCAPED in page
    assert "<b>bold?</b>" not in page and "&lt;b&gt;bold?&lt;/b&gt;" in page


def test_a_value_with_markup_stays_escaped_in_the_validation_summary():
    finding = Finding("constraint", "c1", "critical", False, "bad rows", 1, (repr(SCRIPT),))
    page = render_html(passed=False, reason=f"blocked: {SCRIPT}", findings=[finding], notes=[SCRIPT],
                       data_docs=None)
    assert SCRIPT not in page and page.count(ESCAPED) == 3
    assert "<b>FAIL</b>" in page  # the page's own markup is kept


def test_markdown_keeps_tables_but_escapes_raw_html():
    html = markdown_html(f"| LF | coverage |\n| --- | --- |\n| {SCRIPT} | 0.25 |\n\n<div>{SCRIPT}</div>\n")
    assert "<table>" in html and "<td>" in html
    assert "<script>" not in html and "<div>" not in html
    assert markdown_html("  ") == ""
