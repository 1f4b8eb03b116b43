"""The Great Expectations Data Docs page for one suite result, made to open offline and to agree with the gate.

GX renders its page with stylesheets and scripts from public CDNs, a newsletter footer and links into a
Data Docs site that does not exist here; its header says "Status: Failed" whenever any expectation failed,
a warning-severity one included. Here the page is GX's own rendering, then:

- every CDN stylesheet and script is replaced by the same file vendored in ``assets/`` (from the npm
  registry; ``assets/THIRD_PARTY_LICENSES.txt``), inlined, so the page is one self-contained file that
  renders styled from ``file://``, in the KFP UI and without a network (the dark-mode stylesheet, 880 KB,
  is left out; vega is inlined only when the page draws a chart);
- GX's logo is inlined from the installed package; the newsletter footer, the favicon, the walkthrough
  modal and the links into a Data Docs site that is not there are left out;
- the header's status is the data gate's verdict, and a failed warning-severity expectation is shown
  with a warning sign, not the red cross of a failure that blocks.
"""

from __future__ import annotations

import base64
import re
from collections import defaultdict
from importlib import resources
from typing import Any

from labelgate.validation.findings import CRITICAL

# CDN file (the last part of the URL GX links) -> the vendored file that replaces it; None: left out.
CDN_ASSETS: dict[str, str | None] = {
    "bootstrap.min.css": "bootstrap.min.css",
    "bootstrap-table.min.css": "bootstrap-table.min.css",
    "bootstrap-table-filter-control.css": "bootstrap-table-filter-control.min.css",
    "bootstrap-table-filter-control.min.css": "bootstrap-table-filter-control.min.css",
    "bootstrap-datepicker.min.css": "bootstrap-datepicker.min.css",
    "bootstrap-prefers-dark.css": None,
    "all.min.css": "fontawesome-all.min.css",
    "jquery-3.7.1.min.js": "jquery.min.js",
    "popper.min.js": "popper.min.js",
    "bootstrap.min.js": "bootstrap.min.js",
    "bootstrap-table.min.js": "bootstrap-table.min.js",
    "bootstrap-table-filter-control.min.js": "bootstrap-table-filter-control.min.js",
    "bootstrap-datepicker.min.js": "bootstrap-datepicker.min.js",
    "vega@5": "vega.min.js",
    "vega-lite@5": "vega-lite.min.js",
    "vega-embed@6": "vega-embed.min.js",
}
_VEGA = {"vega.min.js", "vega-lite.min.js", "vega-embed.min.js"}
# Font Awesome's fonts that are inlined, with their weights (GX uses the solid and regular styles only).
_FONTS = {"fa-solid-900.woff2": 900, "fa-regular-400.woff2": 400}

_LINK = re.compile(r"<link\b[^>]*\bhref=\"(https?://[^\"]+)\"[^>]*>", re.IGNORECASE)
_SCRIPT = re.compile(r"<script\b[^>]*\bsrc=\"(https?://[^\"]+)\"[^>]*>\s*</script>", re.IGNORECASE)
_FAVICON = re.compile(r"<link\b[^>]*rel=\"shortcut icon\"[^>]*>", re.IGNORECASE)
_FOOTER = re.compile(r"<footer>.*?</footer>", re.IGNORECASE | re.DOTALL)
# GX's logo: an image on a web server (or in the Data Docs site's static/ folder); the package ships it.
_LOGO = re.compile(r"src=\"[^\"]*(?:static/images/|web-assets[^\"]*/)(logo-long)[.\w-]*(?:\?[^\"]*)?\"")
_REMOTE_CSS_URL = re.compile(r"url\('?https?://[^)]*\)")
_FONT_FACE = re.compile(r"@font-face\{[^}]*\}")
_SOURCE_MAP = re.compile(r"/[*/]# sourceMappingURL=\S+?(?: \*/)?$", re.MULTILINE)
# Links into a Data Docs site (its index, the suite's page) that does not exist beside this page.
_SITE_LINK = re.compile(r"\s+href=\"(?:\.\./)*(?:index\.html|expectations/[^\"]*\.html)\"")
_TITLE = re.compile(r"<title>.*?</title>", re.IGNORECASE | re.DOTALL)
_SCRIPT_CLOSE = re.compile(r"</(script)", re.IGNORECASE)


def data_docs_html(result: Any, *, passed: bool, title: str = "labelgate validation") -> str:
    """GX's Data Docs page for ``result`` (an ExpectationSuiteValidationResult): self-contained, its status the
    gate's (``passed``), failed warning-severity expectations marked as warnings."""
    from great_expectations.render import RenderedDocumentContent
    from great_expectations.render.renderer import ValidationResultsPageRenderer
    from great_expectations.render.view import DefaultJinjaPageView

    class EditedDocument(RenderedDocumentContent):
        """GX's page view takes only its document type; this one hands over the edited JSON."""

        def __init__(self, data: dict[str, Any]) -> None:
            self.data = data

        def to_json_dict(self) -> dict[str, Any]:
            return self.data

    data = ValidationResultsPageRenderer().render(result).to_json_dict()
    warnings = _mark_warnings(data, result)
    _set_status(data, passed=passed, warnings=warnings)
    return offline_page(DefaultJinjaPageView().render(EditedDocument(data), show_how_to_buttons=False), title=title)


def offline_page(html: str, *, title: str) -> str:
    """A GX page with its CDN assets inlined from ``assets/`` (or left out), no favicon, no newsletter footer,
    the GX logo inlined, and one ``title``."""
    uses_vega = "vegaEmbed(" in html

    def stylesheet(match: re.Match[str]) -> str:
        name = _asset_for(match[1])
        return f"<style>{_asset_text(name)}</style>" if name else ""

    def script(match: re.Match[str]) -> str:
        name = _asset_for(match[1])
        if not name or (name in _VEGA and not uses_vega):
            return ""
        return "<script>" + _SCRIPT_CLOSE.sub(r"<\\/\1", _asset_text(name)) + "</script>"

    html = _FAVICON.sub("", html)
    html = _LINK.sub(stylesheet, html)
    html = _SCRIPT.sub(script, html)
    html = _FOOTER.sub("", html)
    html = _LOGO.sub(lambda m: f'src="{_gx_image("logo-long.png")}"', html)
    html = _REMOTE_CSS_URL.sub("none", html)
    html = _SITE_LINK.sub("", html)
    html = _TITLE.sub("", html)
    return html.replace("<head>", f"<head>\n    <title>{_escape(title)}</title>", 1)


def _mark_warnings(document: dict[str, Any], result: Any) -> int:
    """Give each failed non-critical expectation a warning sign in its row; returns how many. Rows are
    matched to results as GX groups them: one section per column (else "Table-Level Expectations"), one
    table row per result, in the result's order; a section whose rows do not line up is left as it is."""
    by_section: dict[str, list[Any]] = defaultdict(list)
    for item in result.results:
        config = item.expectation_config
        by_section[(config.kwargs.get("column") if config is not None else None)
                    or "Table-Level Expectations"].append(item)
    marked = 0
    for section in document.get("sections", []):
        items = by_section.get(section.get("section_name"), [])
        tables = [block for block in section.get("content_blocks", []) if block.get("content_block_type") == "table"]
        if len(tables) != 1 or len(tables[0].get("table") or []) != len(items):
            continue
        for row, item in zip(tables[0]["table"], items, strict=True):
            if item.success or _severity(item) == CRITICAL or not row or not isinstance(row[0], dict):
                continue
            row[0] = _icon("fa-exclamation-triangle", "text-warning", "\u26a0\ufe0f",
                           "failed, severity warning: reported, does not block")
            marked += 1
    return marked


def _set_status(document: dict[str, Any], *, passed: bool, warnings: int) -> None:
    """The overview header's status: the gate's verdict, with the warnings counted."""
    if passed and warnings:
        text, icon = f"Passed with {warnings} warning(s)", _icon_html("fa-exclamation-triangle", "text-warning")
    elif passed:
        text, icon = "Passed", _icon_html("fa-check-circle", "text-success")
    else:
        text, icon = "Blocked by the data gate", _icon_html("fa-times", "text-danger")
    for template in _string_templates(document):
        params = template.get("params", {})
        if "status_title" in params and "success" in params:
            params["success"], params["html_success_icon"] = text, icon


def _string_templates(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if isinstance(node.get("string_template"), dict):
            found.append(node["string_template"])
        for value in node.values():
            found += _string_templates(value)
    elif isinstance(node, list):
        for value in node:
            found += _string_templates(value)
    return found


def _severity(item: Any) -> str:
    config = item.expectation_config
    severity = getattr(config, "severity", None) if config is not None else None
    return str(getattr(severity, "value", severity) or CRITICAL)


def _icon(name: str, colour: str, markdown: str, title: str) -> dict[str, Any]:
    return {"content_block_type": "string_template",
            "string_template": {"template": "$icon", "params": {"icon": "", "markdown_status_icon": markdown},
                                "styling": {"params": {"icon": {"tag": "i", "classes": ["fas", name, colour],
                                                                "attributes": {"title": title}}}}}}


def _icon_html(name: str, colour: str) -> str:
    return f'<i class="fas {name} {colour}" aria-hidden="true"></i>'


def _asset_for(url: str) -> str | None:
    """The vendored file for a CDN URL; None when it is left out (unknown URLs too: nothing loads from a network)."""
    return CDN_ASSETS.get(url.rstrip("/").rsplit("/", 1)[-1])


def _asset_text(name: str) -> str:
    text = resources.files("labelgate.validation").joinpath("assets", name).read_text(encoding="utf-8")
    text = _SOURCE_MAP.sub("", text)
    if name == "fontawesome-all.min.css":
        # Font Awesome declares each font in several @font-face rules (v4/v5 compatibility); keep one per style.
        text = _FONT_FACE.sub("", text) + "".join(
            f'@font-face{{font-family:"Font Awesome 6 Free";font-style:normal;font-weight:{weight};'
            f'font-display:block;src:url({_data_uri(font)}) format("woff2")}}' for font, weight in _FONTS.items())
    return text


def _data_uri(name: str) -> str:
    data = resources.files("labelgate.validation").joinpath("assets", name).read_bytes()
    return "data:font/woff2;base64," + base64.b64encode(data).decode()


def _gx_image(name: str) -> str:
    data = resources.files("great_expectations.render.view").joinpath("static", "images", name).read_bytes()
    return "data:image/png;base64," + base64.b64encode(data).decode()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
