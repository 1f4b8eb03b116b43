"""The one plot helper the reports share: figures drawn on matplotlib's Agg canvas (no display, no
pyplot state shared between threads or runs), saved as PNG at a fixed resolution, and inlined as base64
in HTML pages so that one file shows everything in the KFP UI."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DPI = 110  # the reports' resolution: sharp in a browser, a few tens of kB per plot


@contextmanager
def figure(nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float], squeeze: bool = True,
           gridspec_kw: dict[str, Any] | None = None) -> Iterator[tuple[Figure, Any]]:
    """A new figure with its axes (as ``Figure.subplots`` returns them) on an Agg canvas; the figure is
    cleared on exit, also when drawing fails, so a long pipeline step does not hold on to its memory."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    try:
        yield fig, fig.subplots(nrows, ncols, squeeze=squeeze, gridspec_kw=gridspec_kw)
    finally:
        fig.clear()


def png_bytes(fig: Figure, *, dpi: int = DPI) -> bytes:
    """The figure rendered as PNG at ``dpi`` dots per inch."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def save_png(fig: Figure, path: str | Path, *, dpi: int = DPI) -> Path:
    """Write the figure as a PNG file at ``path`` (its folder is created) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png_bytes(fig, dpi=dpi))
    return path


def inline_png(png: bytes) -> str:
    """PNG bytes as base64 text for an ``<img src="data:image/png;base64,...">`` in a report."""
    return base64.b64encode(png).decode("ascii")
