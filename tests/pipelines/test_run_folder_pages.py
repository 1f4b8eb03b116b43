"""The pages at the top of a run folder open in a browser as pages: checked in headless Chromium."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from chromium_pages import assert_renders, screenshot

from labelgate.pipelines.local import SHORTCUTS, link_outputs
from labelgate.run import Step
from labelgate.validation.datadocs import data_docs_html
from labelgate.validation.expectations import run_suite
from labelgate.validation.report import render_html

pytestmark = pytest.mark.slow

SUITE = {"name": "s", "expectations": [
    {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "CONTENT"}, "severity": "critical"},
    {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "AUTHOR", "value_set": ["user1"]},
     "severity": "warning"},
]}


def _task_root(run_dir: Path) -> Path:
    """A run folder laid out as kfp.local lays it out: artifact files without an extension."""
    from validation.tiny import make_frame

    root = run_dir / "labelgate-training-2026-01-01-00-00-00-000000"
    validate = root / Step.VALIDATE
    validate.mkdir(parents=True)
    docs = data_docs_html(run_suite(make_frame(), SUITE).result, passed=True)
    (validate / "report_html").write_text(render_html(passed=True, reason="passed; 1 warning", findings=[],
                                                      notes=[], data_docs=docs), encoding="utf-8")
    (validate / "report").write_text("# Data validation: PASSED\n", encoding="utf-8")
    (root / Step.SELECT_MODEL / "model").mkdir(parents=True)  # the model evaluate and push read
    return root


def test_every_shortcut_ends_in_a_name_a_browser_renders_and_opens_as_a_page(tmp_path):
    run_dir = tmp_path / "run"
    links = link_outputs(run_dir, _task_root(run_dir))
    assert set(links) == {"validation.html", "validation.md", "model"}
    for name, path in links.items():
        assert Path(path).is_dir() or Path(name).suffix in (".html", ".md"), name
    assert Path(links["model"]).is_symlink() and Path(links["model"]).is_dir()
    assert not Path(links["validation.html"]).is_symlink()
    # The Data Docs page: styled from vendored assets, nothing from a network, the gate's status, a warning sign.
    page = assert_renders(Path(links["validation.html"]), styled=True)
    assert "Data validation: PASSED" in page["text"] and "Passed with 1 warning(s)" in page["text"]
    assert page["images"], "the GX logo is an image and must load"
    screenshot(Path(links["validation.html"]), tmp_path / "validation.png")
    # Re-linking (a run summarised twice) replaces the links.
    assert link_outputs(run_dir, run_dir / "labelgate-training-2026-01-01-00-00-00-000000") == links


def test_a_symlink_to_an_artifact_file_is_what_shows_source(tmp_path):
    """The check itself can fail: the old symlinked shortcut is seen as text, not as a page."""
    target = tmp_path / "report"
    target.write_text("<!doctype html><html><head><title>t</title></head><body>hello</body></html>")
    link = tmp_path / "report.html"
    os.symlink(target, link)
    with pytest.raises(AssertionError, match="text/plain"):
        assert_renders(link)


def test_shortcut_names_are_pages_tables_or_the_model_folder():
    # the suffix tells a reader what opens it: a browser, a text viewer, pandas; "model" is the bundle folder
    assert all(Path(name).suffix in (".html", ".md", ".parquet") or name == "model" for name in SHORTCUTS.values())
    assert len(set(SHORTCUTS.values())) == len(SHORTCUTS)
