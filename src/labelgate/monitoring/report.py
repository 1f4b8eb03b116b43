"""The monitoring report: Markdown, HTML (with plots) and a JSON record of one verdict."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from labelgate.monitoring.monitor import MonitorResult

REPORT_MD, REPORT_HTML, REPORT_JSON = "monitor.md", "monitor.html", "monitor.json"


def to_markdown(result: MonitorResult, classes: list[str]) -> str:
    head = f"# Served traffic vs champion{f' (version {result.version})' if result.version else ''}: " \
           f"{'DRIFT' if result.drifted else 'no drift'}\n\n{result.reason}\n\n{result.rows} served rows" \
           f"{f' since {result.since.isoformat()}' if result.since else ''}.\n"
    lines = [head]
    lines += [f"- {note}" for note in result.notes]
    if result.findings:
        lines += ["", "| check | severity | result | detail |", "|---|---|---|---|"]
        lines += [f"| {f.name} | {f.severity} | {'pass' if f.passed else '**FAIL**'} | {f.detail} |"
                  for f in result.findings]
    if result.lf_votes:
        lines += ["", "## LF votes on served texts", "",
                  "| LF | champion coverage | served coverage | " + " | ".join(f"votes {c}" for c in classes) + " |",
                  "|---|---|---|" + "---|" * len(classes)]
        for row in result.lf_votes:
            ref = "n/a" if row["champion_coverage"] is None else f"{row['champion_coverage']:.3f}"
            lines.append(f"| {row['lf']} | {ref} | {row['served_coverage']:.3f} | "
                         + " | ".join(str(row["votes"][c]) for c in classes) + " |")
    return "\n".join(lines) + "\n"


def _plot(result: MonitorResult) -> str | None:
    """Champion vs served: text lengths (on the profile's bins), class shares, LF coverage; inline PNG."""
    from labelgate.plots import figure, inline_png, png_bytes

    lengths = [(name, ref, result.current.get("numeric", {}).get(name))
               for name, ref in result.reference.get("numeric", {}).items() if name.endswith(":length")]
    lengths = [(n, r, c) for n, r, c in lengths if c is not None and sum(r["counts"]) and sum(c["counts"])]
    panels: list[Any] = []
    if lengths:
        panels.append("lengths")
    if result.class_shares:
        panels.append("classes")
    if result.lf_votes:
        panels.append("lfs")
    if not panels:
        return None
    import numpy as np

    with figure(1, len(panels), figsize=(4.5 * len(panels), 3.4), squeeze=False) as (fig, axes):
        for ax, panel in zip(axes[0], panels, strict=True):
            if panel == "lengths":
                name, ref, cur = lengths[0]
                x = np.arange(len(ref["counts"]))
                ax.plot(x, np.asarray(ref["counts"]) / sum(ref["counts"]), marker="o", label="champion")
                ax.plot(x, np.asarray(cur["counts"]) / sum(cur["counts"]), marker="o", label="served")
                ax.set_title(f"{name.replace(':length', '')} length (profile bins)")
                ax.set_xlabel("bin")
                ax.legend()
            elif panel == "classes":
                names = list(result.class_shares)
                x = np.arange(len(names))
                ax.bar(x - 0.2, [result.class_shares[n][0] for n in names], 0.4, label="champion balance")
                ax.bar(x + 0.2, [result.class_shares[n][1] for n in names], 0.4, label="served")
                ax.set_xticks(x, names)
                ax.set_title("predicted class shares")
                ax.legend()
            else:
                rows = result.lf_votes
                y = np.arange(len(rows))
                ax.barh(y - 0.2, [r["champion_coverage"] or 0.0 for r in rows], 0.4, label="champion")
                ax.barh(y + 0.2, [r["served_coverage"] for r in rows], 0.4, label="served")
                ax.set_yticks(y, [r["lf"] for r in rows], fontsize=7)
                ax.set_title("LF coverage")
                ax.legend()
        fig.tight_layout()
        return inline_png(png_bytes(fig))


def write_report(result: MonitorResult, out_dir: str | Path, *, classes: list[str]) -> dict[str, Path]:
    """Write monitor.md, monitor.html and monitor.json into ``out_dir``; returns their paths."""
    from labelgate.rendering import render

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"markdown": out / REPORT_MD, "html": out / REPORT_HTML, "json": out / REPORT_JSON}
    paths["markdown"].write_text(to_markdown(result, classes), encoding="utf-8")
    paths["html"].write_text(render(
        "monitoring_report.html", drifted=result.drifted, colour="#b00" if result.drifted else "#070",
        version=result.version, reason=result.reason, rows=result.rows,
        since=result.since.isoformat() if result.since else None, notes=result.notes, findings=result.findings,
        lf_votes=result.lf_votes, classes=classes, plot_png=_plot(result)), encoding="utf-8")
    paths["json"].write_text(json.dumps({
        "drifted": result.drifted, "reason": result.reason, "rows": result.rows, "version": result.version,
        "since": result.since.isoformat() if result.since else None, "notes": result.notes,
        "findings": [f.to_dict() for f in result.findings], "lf_votes": result.lf_votes,
        "class_shares": {k: {"champion": a, "served": b} for k, (a, b) in result.class_shares.items()},
    }, indent=2), encoding="utf-8")
    return paths
