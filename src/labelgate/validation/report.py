"""Reports people read: a compact Markdown summary (what failed, how many rows, example values) and an
HTML page that puts the same summary above Great Expectations' Data Docs for the suite result."""

from __future__ import annotations

from markupsafe import Markup

from labelgate.plots import inline_png
from labelgate.rendering import render
from labelgate.validation.findings import Finding


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(*, passed: bool, reason: str, findings: list[Finding], notes: list[str],
                    rows: int | None) -> str:
    """The Markdown summary: decision, failed checks first (critical before warning), then every check."""
    lines = [f"# Data validation: {'PASSED' if passed else 'BLOCKED'}", "", reason, ""]
    if rows is not None:
        lines += [f"Rows checked: {rows}", ""]
    for note in notes:
        lines.append(f"- {note}")
    if notes:
        lines.append("")
    failed = sorted((f for f in findings if not f.passed), key=lambda f: (f.severity != "critical", f.source))
    if failed:
        lines += ["## Failed checks", ""]
        for f in failed:
            rows_text = f" ({f.failing_rows} row{'' if f.failing_rows == 1 else 's'})" if f.failing_rows else ""
            lines.append(f"- **{f.severity}** {f.source}: `{f.name}`{rows_text}: {f.detail}")
            for example in f.examples:
                lines.append(f"    - e.g. {example}")
        lines.append("")
    for source, title in (("expectation", "Expectations (Great Expectations)"),
                          ("constraint", "Integrity constraints"), ("drift", "Drift against the champion")):
        group = [f for f in findings if f.source == source]
        if not group:
            continue
        passed_count = sum(f.passed for f in group)
        lines += [f"## {title}: {passed_count} of {len(group)} passed", "",
                  "| check | severity | result | detail |", "| --- | --- | --- | --- |"]
        for f in group:
            lines.append(f"| `{_cell(f.name)}` | {f.severity} | {'pass' if f.passed else 'FAIL'} | {_cell(f.detail)} |")
        lines.append("")
    return "\n".join(lines)


def render_html(*, passed: bool, reason: str, findings: list[Finding], notes: list[str],
                data_docs: str | None, drift_png: bytes | None = None) -> str:
    """A summary block (with the drift picture, when there is a champion to compare with) followed by the
    GX Data Docs page (or only the summary when there is none)."""
    summary = render("validation_summary.html", passed=passed, reason=reason, notes=notes,
                     colour="#1a7f37" if passed else "#cf222e",
                     findings=[f for f in findings if f.source != "expectation"],
                     drift_png=inline_png(drift_png) if drift_png else None)
    if not data_docs:
        return render("validation_page.html", summary=Markup(summary))
    marker = data_docs.find("<body")
    if marker == -1:
        return summary + data_docs
    close = data_docs.find(">", marker) + 1
    return data_docs[:close] + summary + data_docs[close:]
