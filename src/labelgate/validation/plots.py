"""One picture of drift for the HTML report: text lengths, LF coverage and class balance, champion vs now."""

from __future__ import annotations

from typing import Any

import numpy as np

from labelgate.plots import figure, png_bytes

# The drift picture is wide (one panel per profiled column, LFs, class balance): a lower resolution
# than the other plots keeps it readable in the KFP UI without scrolling.
DRIFT_DPI = 80


def drift_png(reference: dict[str, Any], current: dict[str, Any]) -> bytes | None:
    """A PNG comparing the champion's profile with this run's (binned on the same edges); None when the
    profiles share nothing to draw."""
    numeric = [n for n in reference.get("numeric", {}) if n in current.get("numeric", {})
               and reference["numeric"][n]["edges"] == current["numeric"][n]["edges"]]
    lfs = [n for n in reference.get("lf_coverage", {}) if n in current.get("lf_coverage", {})]
    balance = reference.get("class_balance") and current.get("class_balance")
    panels = len(numeric) + bool(lfs) + bool(balance)
    if not panels:
        return None
    widths = [1.0] * len(numeric) + ([max(1.5, len(lfs) / 6)] if lfs else []) + ([0.6] if balance else [])
    with figure(1, panels, figsize=(4 * sum(widths) + 1, 4), gridspec_kw={"width_ratios": widths},
                squeeze=False) as (fig, grid):
        axes = list(grid[0])
        for name in numeric:
            ax = axes.pop(0)
            ref, cur = reference["numeric"][name], current["numeric"][name]
            labels = _bin_labels(ref["edges"])
            x = np.arange(len(labels))
            ax.bar(x - 0.2, _share(ref["counts"]), width=0.4, label="champion", color="#8c8c8c")
            ax.bar(x + 0.2, _share(cur["counts"]), width=0.4, label="this run", color="#1f77b4")
            step = max(1, len(labels) // 6)
            ax.set_xticks(x[::step], labels[::step], rotation=30, ha="right", fontsize=7)
            ax.set_title(name.replace(":length", " length (chars)"), fontsize=9)
            ax.set_ylabel("share of rows")
            ax.legend(fontsize=7)
        if lfs:
            ax = axes.pop(0)
            x = np.arange(len(lfs))
            before = np.array([reference["lf_coverage"][n] for n in lfs])
            after = np.array([current["lf_coverage"][n] for n in lfs])
            ax.bar(x - 0.2, before, width=0.4, label="champion", color="#8c8c8c")
            collapsed = (after < before / 2) & (before - after > 0.03)
            ax.bar(x + 0.2, after, width=0.4, label="this run", color=np.where(collapsed, "#d62728", "#1f77b4"))
            for i in np.flatnonzero(collapsed):  # a bar of height 0 is invisible: mark it
                ax.annotate(f"{after[i]:.2f}", (x[i] + 0.2, after[i]), xytext=(0, 3), textcoords="offset points",
                            ha="center", fontsize=7, color="#d62728", fontweight="bold")
            ax.set_xticks(x, lfs, rotation=45, ha="right", fontsize=7)
            ax.set_title("LF coverage (red: collapsed)", fontsize=9)
            ax.set_ylabel("share of rows voted on")
            ax.legend(fontsize=7)
        if balance:
            ax = axes.pop(0)
            k = len(reference["class_balance"])
            x = np.arange(k)
            ax.bar(x - 0.2, reference["class_balance"], width=0.4, label="champion", color="#8c8c8c")
            ax.bar(x + 0.2, current["class_balance"], width=0.4, label="this run", color="#1f77b4")
            ax.set_xticks(x, [f"class {i}" for i in range(k)], fontsize=8)
            ax.set_ylim(0, 1)
            ax.set_title("predicted class balance", fontsize=9)
            ax.legend(fontsize=7)
        fig.subplots_adjust(left=0.06, right=0.99, bottom=0.3, top=0.9, wspace=0.25)  # tight_layout costs 0.2 s
        return png_bytes(fig, dpi=DRIFT_DPI)


def _share(counts: list[int]) -> np.ndarray:
    values = np.asarray(counts, dtype=float)
    return values / values.sum() if values.sum() else values


def _bin_labels(edges: list[float]) -> list[str]:
    if not edges:
        return ["all"]
    labels = [f"<={edges[0]:g}"]
    labels += [f"{a:g}-{b:g}" for a, b in zip(edges[:-1], edges[1:], strict=True)]
    labels.append(f">{edges[-1]:g}")
    return labels
