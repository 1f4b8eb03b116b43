"""LF analysis: polarity, coverage, overlaps, conflicts, empirical accuracy, learned weights, failures.

Definitions follow Snorkel's ``LFAnalysis``: an LF *overlaps* on a row where it and another LF vote, and
*conflicts* where another LF votes a different class. Rendered as Markdown, HTML (with the plot inlined,
so the KFP UI shows it) and a coverage-vs-accuracy PNG.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from labelgate.plots import figure, inline_png, png_bytes
from labelgate.rendering import render

ABSTAIN = -1


def lf_summary(
    L: np.ndarray,
    lf_names: Sequence[str],
    y: np.ndarray | None = None,
    weights: np.ndarray | None = None,
    failures: dict[str, int] | None = None,
) -> pd.DataFrame:
    """One row per LF. ``y`` holds gold labels with -1 where unknown (accuracy uses the known rows)."""
    L = np.asarray(L)
    voted = L != ABSTAIN
    n_votes = voted.sum(axis=1)
    coverage = voted.mean(axis=0)
    overlaps = (voted & (n_votes[:, None] > 1)).mean(axis=0)
    conflicts = np.zeros(L.shape[1])
    k = int(L.max()) + 1 if voted.any() else 0
    per_class = np.stack([(L == c).sum(axis=1) for c in range(k)], axis=1) if k else np.zeros((len(L), 0))
    for j in range(L.shape[1]):
        if not voted[:, j].any():
            continue
        rows = voted[:, j]
        same = per_class[rows, L[rows, j]]
        conflicts[j] = float(((n_votes[rows] - same) > 0).sum()) / len(L)
    table = pd.DataFrame({
        "lf": list(lf_names),
        "polarity": [sorted(int(v) for v in np.unique(L[voted[:, j], j])) for j in range(L.shape[1])],
        "coverage": coverage,
        "overlaps": overlaps,
        "conflicts": conflicts,
    })
    if y is not None:
        y = np.asarray(y)
        known = y >= 0
        cast = voted & known[:, None]
        correct = (cast & (L == y[:, None])).sum(axis=0)
        table["correct"] = correct
        table["incorrect"] = cast.sum(axis=0) - correct
        with np.errstate(invalid="ignore", divide="ignore"):
            table["emp_accuracy"] = np.where(cast.sum(axis=0) > 0, correct / cast.sum(axis=0), np.nan)
    if weights is not None:
        table["learned_accuracy"] = np.asarray(weights, dtype=float)
    if failures is not None:
        table["failures"] = [int(failures.get(name, 0)) for name in lf_names]
    return table


def totals(L: np.ndarray) -> dict[str, float]:
    """Matrix-wide coverage (any LF votes), overlap (2+ vote) and conflict (votes disagree) rates."""
    L = np.asarray(L, dtype=np.int16)
    voted = L != ABSTAIN
    n_votes = voted.sum(axis=1)
    lo = np.where(voted, L, np.iinfo(np.int16).max).min(axis=1)
    hi = np.where(voted, L, -1).max(axis=1)
    return {
        "coverage": float((n_votes > 0).mean()),
        "overlap": float((n_votes > 1).mean()),
        "conflict": float(((n_votes > 1) & (lo != hi)).mean()),
    }


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return "" if np.isnan(value) else f"{value:.3f}"
    if isinstance(value, (np.floating,)):
        return "" if np.isnan(value) else f"{float(value):.3f}"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def to_markdown(table: pd.DataFrame, header: dict[str, str]) -> str:
    """A Markdown report: the key facts as bullets, then the per-LF table."""
    lines = ["# LF analysis", ""]
    lines += [f"- **{key}**: {value}" for key, value in header.items()]
    lines += ["", "| " + " | ".join(table.columns) + " |", "|" + " --- |" * len(table.columns)]
    for row in table.itertuples(index=False):
        lines.append("| " + " | ".join(_fmt(v) for v in row) + " |")
    return "\n".join(lines) + "\n"


def to_html(table: pd.DataFrame, header: dict[str, str], plot_png: bytes | None = None) -> str:
    """A self-contained HTML report (the plot is inlined) for the KFP UI and the local run directory."""
    return render("lf_analysis.html", facts=header, columns=[str(c) for c in table.columns],
                  rows=[[_fmt(v) for v in row] for row in table.itertuples(index=False)],
                  plot=inline_png(plot_png) if plot_png else None)


def plot_coverage_accuracy(
    table: pd.DataFrame, path: str | Path | None = None, classes: Sequence[str] | None = None
) -> bytes:
    """Scatter of each LF's coverage against its accuracy (empirical on dev labels, else learned).
    Returns the PNG bytes and writes them to ``path`` when given."""
    column = "emp_accuracy" if "emp_accuracy" in table else "learned_accuracy"
    with figure(figsize=(7, 5)) as (fig, ax):
        if column in table:
            acc = table[column].astype(float).to_numpy()
            cov = table["coverage"].to_numpy()
            shown = ~np.isnan(acc)
            # Colour by the class an LF votes (grey when it votes several).
            poles = [p[0] if len(p) == 1 else -1 for p in table["polarity"]]
            colours = [f"C{p % 10}" if p >= 0 else "grey" for p in poles]
            ax.scatter(cov[shown], acc[shown], c=[c for c, keep in zip(colours, shown, strict=True) if keep])
            for pole in sorted(set(poles)):
                ax.scatter([], [], c=f"C{pole % 10}" if pole >= 0 else "grey",
                           label=("votes " + (classes[pole] if classes else f"class {pole}")) if pole >= 0
                           else "votes several classes")
            ax.legend(loc="lower right", fontsize=8)
            for i, (name, x, y) in enumerate(zip(table["lf"][shown], cov[shown], acc[shown], strict=True)):
                # Staggered label offsets keep LFs with equal accuracy (often 1.0 on a small dev set) readable.
                ax.annotate(str(name), (x, y), fontsize=8, xytext=(4, 4 - 10 * (i % 3)), textcoords="offset points")
            ax.set_ylabel("empirical accuracy on dev labels" if column == "emp_accuracy" else "learned accuracy")
        ax.set_xlabel("coverage (share of rows the LF votes on)")
        ax.set_ylim(-0.02, 1.05)
        ax.set_xlim(left=0)
        ax.axhline(0.5, color="grey", lw=0.8, ls="--")
        ax.set_title("Labeling functions: coverage vs accuracy")
        fig.tight_layout()
        png = png_bytes(fig, dpi=100)
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_bytes(png)
    return png
