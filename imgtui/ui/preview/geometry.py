"""Cells <-> pixels for the preview: how big to decode, and how many cells to draw.

The image widget is always given an explicit size in cells (textual-image's `auto`
sizing can collapse to height 0, or blow small images up), computed here.
"""

from __future__ import annotations

from .terminal import CellSize, PreviewMode

# Image pixels one cell shows natively, per renderer: graphics protocols draw real pixels;
# halfcell draws two stacked colour blocks; unicode one shaded character.
_TEXT_DENSITY = {"halfcell": (1, 2), "unicode": (1, 1)}
# Text renderers resample the thumbnail on every repaint; 2x their density is enough
# for a clean downscale and keeps the thumbnail (and each repaint) tiny.
_TEXT_OVERSAMPLE = 2


def pixels_per_cell(mode: PreviewMode, cell: CellSize) -> tuple[int, int]:
    """What one cell can show natively in `mode`, in image pixels."""
    return _TEXT_DENSITY.get(mode, (cell.width, cell.height))


def decode_box(mode: PreviewMode, area_cells: tuple[int, int], cell: CellSize) -> tuple[int, int]:
    """The pixel box to decode into for an area of `area_cells` (columns, rows)."""
    density_w, density_h = pixels_per_cell(mode, cell)
    factor = _TEXT_OVERSAMPLE if mode in _TEXT_DENSITY else 1
    return area_cells[0] * density_w * factor, area_cells[1] * density_h * factor


def fit_cells(
    original_px: tuple[int, int],
    area_cells: tuple[int, int],
    cell: CellSize,
    mode: PreviewMode,
) -> tuple[int, int]:
    """Columns x rows to draw an image of `original_px` in: as large as fits the area,
    keeping its aspect ratio on screen, never enlarged past its native resolution, and
    never 0 (a 0-height image widget is the classic textual-image trap)."""
    original_w, original_h = max(1, original_px[0]), max(1, original_px[1])
    area_w, area_h = max(1, area_cells[0]), max(1, area_cells[1])
    # Width / height measured in cells (cells are not square: typically 1:2).
    aspect = (original_w / cell.width) / (original_h / cell.height)
    width = float(area_w)
    height = width / aspect
    if height > area_h:
        height = float(area_h)
        width = height * aspect
    density_w, _ = pixels_per_cell(mode, cell)
    native_w = original_w / density_w
    if width > native_w:
        width = native_w
        height = width / aspect
    return (
        min(area_w, max(1, round(width))),
        min(area_h, max(1, round(height))),
    )
