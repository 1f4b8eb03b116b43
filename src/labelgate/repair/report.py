"""The repair report: what changed (old -> new, probability, why), what was left flagged, and the numbers;
Markdown and HTML rendered from one jinja2 environment."""

from __future__ import annotations

from typing import Any

import pandas as pd
from jinja2 import Environment, StrictUndefined

_ENV = Environment(autoescape=False, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
_HTML_ENV = Environment(autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)

_MARKDOWN = """# Data repair: {{ metrics.cells_repaired }} cell{{ '' if metrics.cells_repaired == 1 else 's' }} changed

{{ metrics.rows }} rows x {{ metrics.columns }} columns; {{ metrics.cells_detected }} cells detected as possibly wrong; \
{{ metrics.cells_repaired }} repaired with probability >= {{ metrics.threshold }}; \
{{ metrics.cells_left_flagged }} left as they were and flagged (a different value was likelier but not sure enough).

{% for note in notes %}
- {{ note }}
{% endfor %}

## Changed cells{% if changes|length < total_changes %} (first {{ changes|length }} of {{ total_changes }}){% endif %}

{% if changes %}
| row | column | old | new | probability | why |
| --- | --- | --- | --- | --- | --- |
{% for c in changes %}
| {{ c.row }} | {{ c.column|md }} | {{ c.old|md }} | {{ c.new|md }} | {{ '%.3f'|format(c.probability) }} | {{ c.why|md }} |
{% endfor %}
{% else %}
No cell was changed.
{% endif %}

## Flagged, not changed{% if flagged|length < total_flagged %} (first {{ flagged|length }} of {{ total_flagged }}){% endif %}

{% if flagged %}
| row | column | value | likeliest other value | probability | why |
| --- | --- | --- | --- | --- | --- |
{% for c in flagged %}
| {{ c.row }} | {{ c.column|md }} | {{ c.old|md }} | {{ c.new|md }} | {{ '%.3f'|format(c.probability) }} | {{ c.why|md }} |
{% endfor %}
{% else %}
None.
{% endif %}

## Numbers

| metric | value |
| --- | --- |
{% for key, value in metrics.items() %}
| {{ key }} | {{ value|num }} |
{% endfor %}
"""

_HTML = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>labelgate repair</title>
<style>body{font-family:sans-serif;margin:1em} table{border-collapse:collapse} td,th{border:1px solid #bbb;
padding:3px 6px} .old{color:#cf222e;text-decoration:line-through} .new{color:#1a7f37}</style></head><body>
<h1>Data repair: {{ metrics.cells_repaired }} cells changed</h1>
<p>{{ metrics.rows }} rows x {{ metrics.columns }} columns; {{ metrics.cells_detected }} cells detected;
{{ metrics.cells_repaired }} repaired with probability &ge; {{ metrics.threshold }};
{{ metrics.cells_left_flagged }} left and flagged.</p>
{% if notes %}<ul>{% for note in notes %}<li>{{ note }}</li>{% endfor %}</ul>{% endif %}
<h2>Changed cells{% if changes|length < total_changes %} (first {{ changes|length }} of {{ total_changes }}){% endif %}</h2>
<table><tr><th>row</th><th>column</th><th>old</th><th>new</th><th>probability</th><th>why</th></tr>
{% for c in changes %}<tr><td>{{ c.row }}</td><td>{{ c.column }}</td><td class="old">{{ c.old|text }}</td>
<td class="new">{{ c.new|text }}</td><td>{{ '%.3f'|format(c.probability) }}</td><td>{{ c.why }}</td></tr>
{% endfor %}</table>
<h2>Flagged, not changed{% if flagged|length < total_flagged %} (first {{ flagged|length }} of {{ total_flagged }}){% endif %}</h2>
<table><tr><th>row</th><th>column</th><th>value</th><th>likeliest other value</th><th>probability</th><th>why</th></tr>
{% for c in flagged %}<tr><td>{{ c.row }}</td><td>{{ c.column }}</td><td>{{ c.old|text }}</td><td>{{ c.new|text }}</td>
<td>{{ '%.3f'|format(c.probability) }}</td><td>{{ c.why }}</td></tr>
{% endfor %}</table>
<h2>Numbers</h2><table>{% for key, value in metrics.items() %}<tr><td>{{ key }}</td><td>{{ value|num }}</td></tr>
{% endfor %}</table>
</body></html>
"""


def _text(value: Any) -> str:
    return "(null)" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def _md(value: Any) -> str:
    return _text(value).replace("|", "\\|").replace("\n", " ")


def _num(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


for _env in (_ENV, _HTML_ENV):
    _env.filters.update(md=_md, text=_text, num=_num)


def _context(changes: pd.DataFrame, flagged: pd.DataFrame, metrics: dict[str, Any], notes: list[str],
             max_rows: int) -> dict[str, Any]:
    return {"changes": changes.head(max_rows).to_dict("records"), "total_changes": len(changes),
            "flagged": flagged.head(max_rows).to_dict("records"), "total_flagged": len(flagged),
            "metrics": metrics, "notes": notes}


def render_markdown(changes: pd.DataFrame, flagged: pd.DataFrame, metrics: dict[str, Any],
                    notes: list[str] | None = None, max_rows: int = 200) -> str:
    return _ENV.from_string(_MARKDOWN).render(**_context(changes, flagged, metrics, notes or [], max_rows))


def render_html(changes: pd.DataFrame, flagged: pd.DataFrame, metrics: dict[str, Any],
                notes: list[str] | None = None, max_rows: int = 200) -> str:
    return _HTML_ENV.from_string(_HTML).render(**_context(changes, flagged, metrics, notes or [], max_rows))


OFF_MARKDOWN = """# Data repair: off

The config has no `repair` section, so the table passed through unchanged. Add one (even `repair: {}`)
to detect and repair dirty cells before the labeling functions run.
"""


def render_off_markdown() -> str:
    """The report of a run whose config has no ``repair`` section."""
    return OFF_MARKDOWN


def render_off_html() -> str:
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>labelgate repair</title></head><body>"
            "<h1>Data repair: off</h1><p>The config has no <code>repair</code> section, so the table passed "
            "through unchanged. Add one (even <code>repair: {}</code>) to detect and repair dirty cells before the "
            "labeling functions run.</p></body></html>\n")
