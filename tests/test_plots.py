"""The shared plot helper writes real PNGs (checked by decoding them, not only by their existence)."""

import io

import matplotlib.image as mpimg
import pytest

from labelgate.plots import DPI, figure, inline_png, png_bytes, save_png

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_save_png_writes_a_decodable_png_of_the_figure_size(tmp_path):
    with figure(figsize=(4, 3)) as (fig, ax):
        ax.plot([0, 1], [1, 0])
        path = save_png(fig, tmp_path / "sub" / "line.png")
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC)
    height, width, _ = mpimg.imread(path).shape
    assert (width, height) == (4 * DPI, 3 * DPI)


def test_png_bytes_and_inline_png_round_trip_at_the_requested_dpi():
    with figure(1, 2, figsize=(2, 1), squeeze=False) as (fig, axes):
        assert axes.shape == (1, 2)
        png = png_bytes(fig, dpi=50)
    assert png.startswith(PNG_MAGIC)
    assert mpimg.imread(io.BytesIO(png), format="png").shape[:2] == (50, 100)
    import base64
    assert base64.b64decode(inline_png(png)) == png


def test_the_figure_is_cleared_even_when_drawing_fails():
    with pytest.raises(RuntimeError), figure(figsize=(1, 1)) as (fig, ax):
        kept = fig
        raise RuntimeError("boom")
    assert kept.axes == []


def test_no_pyplot_figures_are_left_open():
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    with figure(figsize=(1, 1)) as (fig, ax):
        png_bytes(fig)
    assert plt.get_fignums() == before
