"""The one HTML rendering path for the reports: a jinja2 environment over the package's templates
(``labelgate/templates/*.html``) with autoescaping on, so that text from users (LF names, data values,
reasons) can never turn into markup, plus Markdown-to-HTML for the reports that embed another step's
Markdown (raw HTML inside that Markdown is shown as text, not run)."""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup


@cache
def environment() -> Environment:
    """The shared environment, built on first use (nothing is read at import time)."""
    return Environment(loader=PackageLoader("labelgate", "templates"), autoescape=True,
                       undefined=StrictUndefined)


def render(template: str, **context: Any) -> str:
    """Render ``labelgate/templates/<template>`` with ``context``; every value is escaped unless it is
    :class:`~markupsafe.Markup` (HTML this package built itself)."""
    return environment().get_template(template).render(**context)


def markdown_html(text: str) -> Markup:
    """Markdown (tables and fenced code allowed) as HTML safe to put in a page; raw HTML in ``text`` is
    escaped rather than passed through, since the Markdown holds LF names and data values."""
    if not text.strip():
        return Markup("")
    import markdown

    converter = markdown.Markdown(extensions=["tables", "fenced_code"])
    converter.preprocessors.deregister("html_block")
    converter.inlinePatterns.deregister("html")
    return Markup(converter.convert(text))
