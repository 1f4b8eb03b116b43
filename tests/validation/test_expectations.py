import json

import pandas as pd
import pytest

from labelgate.errors import ConfigError
from labelgate.validation.datadocs import data_docs_html
from labelgate.validation.expectations import build_suite, clip_results, read_suite, run_suite


def _by_name(findings):
    return {f.name: f for f in findings}


def test_clean_data_passes_every_expectation(frame, suite):
    run = run_suite(frame, suite)
    assert len(run.findings) == len(suite["expectations"])
    assert all(f.passed for f in run.findings), [f.line() for f in run.findings if not f.passed]


def test_failures_carry_severity_counts_and_examples(frame, suite):
    frame.loc[3, "CLASS"] = 7
    frame.loc[5, "AUTHOR"] = None
    findings = _by_name(run_suite(frame, suite, max_examples=3).findings)
    domain = findings["expect_column_values_to_be_in_set(CLASS)"]
    assert not domain.passed and domain.blocks and domain.failing_rows == 1
    assert domain.examples == ("'7'",)
    assert "1 of 40 rows" in domain.detail
    author = findings["expect_column_values_to_not_be_null(AUTHOR)"]
    assert not author.passed and not author.blocks and author.severity == "warning"


def test_hidden_labels_are_allowed_by_the_domain_check(frame, suite):
    assert frame["CLASS"].isna().any()
    assert _by_name(run_suite(frame, suite).findings)["expect_column_values_to_be_in_set(CLASS)"].passed


def test_missing_column_is_named(frame, suite):
    findings = _by_name(run_suite(frame.drop(columns=["CONTENT"]), suite).findings)
    null_check = findings["expect_column_values_to_not_be_null(CONTENT)"]
    assert null_check.blocks
    assert "['CONTENT'] not in the data" in null_check.detail
    assert not findings["expect_table_columns_to_match_set"].passed


def test_suite_file_errors_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        read_suite(tmp_path / "none.json")
    (tmp_path / "bad.json").write_text("{oops")
    with pytest.raises(ConfigError, match="not valid JSON"):
        read_suite(tmp_path / "bad.json")
    (tmp_path / "sev.json").write_text(json.dumps(
        {"expectations": [{"type": "expect_column_to_exist", "kwargs": {"column": "a"}, "severity": "fatal"}]}))
    with pytest.raises(ConfigError, match="severity must be one of"):
        read_suite(tmp_path / "sev.json")
    (tmp_path / "empty.json").write_text(json.dumps({"expectations": []}))
    with pytest.raises(ConfigError, match="no expectations"):
        read_suite(tmp_path / "empty.json")


def test_unknown_expectation_type_is_not_silently_dropped():
    spec = {"name": "s", "expectations": [{"type": "expect_column_to_be_tasty", "kwargs": {"column": "a"}}]}
    with pytest.raises(ConfigError, match="expect_column_to_be_tasty"):
        build_suite(spec)


def test_example_suite_loads_and_every_expectation_is_built(example_config):
    spec = read_suite(example_config.parent / "expectations.json")
    suite = build_suite(spec)
    assert len(suite.expectations) == len(spec["expectations"])
    severities = {e.get("severity") for e in spec["expectations"]}
    assert severities == {"critical", "warning"}


def test_data_docs_page_shows_the_failed_expectation(frame, suite):
    frame.loc[0, "CONTENT"] = pd.NA
    html = data_docs_html(run_suite(frame, suite).result, passed=False)
    assert "<html" in html.lower() and "CONTENT" in html
    assert "Status:" in html and "Blocked by the data gate" in html


def test_data_docs_page_is_offline_and_labels_a_warning_as_a_warning(frame):
    spec = {"name": "s", "expectations": [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "CONTENT"}, "severity": "critical"},
        {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "AUTHOR", "value_set": ["user1"]},
         "severity": "warning"},
    ]}
    html = data_docs_html(run_suite(frame, spec).result, passed=True)
    # GX says "Failed" for any failed expectation (its header template: "Succeeded"/"Failed"); this page says
    # what the gate said.
    status = html[html.index("Status:"):][:300]
    assert "Passed with 1 warning(s)" in status and "Failed" not in status
    assert html.count("fa-exclamation-triangle text-warning") >= 2  # the header and the AUTHOR row
    # Nothing is loaded from a network: no remote stylesheet, script or image, no newsletter footer.
    import re
    assert not re.search(r"<(link|script)[^>]+(href|src)=\"https?://", html)
    assert not re.search(r"<img[^>]+src=\"https?://", html) and "url('http" not in html
    assert "newsletter" not in html.lower()
    assert 'href="../' not in html and 'href="index.html"' not in html  # no links into a Data Docs site
    assert "<style>" in html and "bootstrap" in html.lower()


def test_a_huge_cell_is_blocked_and_clipped_in_the_report(frame, suite):
    plain = data_docs_html(clip_results(run_suite(frame.copy(), suite).result), passed=True)
    frame.loc[3, "CONTENT"] = "x" * 2_000_000
    run = run_suite(frame, suite)
    length = _by_name(run.findings)["expect_column_value_lengths_to_be_between(CONTENT)"]
    assert length.blocks and length.failing_rows == 1
    assert len(length.line()) < 400
    html = data_docs_html(clip_results(run.result), passed=False)
    # The page inlines its CSS/JS (about 0.9 MB); the 2 MB cell adds less than 100 KB to it.
    assert len(html) - len(plain) < 100_000 and "(2000000 characters)" in html
