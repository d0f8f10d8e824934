"""The grid's arithmetic, with no Textual in it: how many cells fit, which indexes are on
screen, which to fetch next (and how urgently), and where the cursor goes on each key."""

from __future__ import annotations

from dataclasses import dataclass

CELL_MIN_WIDTH = 18  # cells: a border, a 16-cell picture, a readable name
CELL_MIN_HEIGHT = 9  # a border, 6 rows of picture, the caption line
CELL_BORDER = 2  # rows and columns a cell's border takes
CAPTION_ROWS = 1
MAX_COLUMNS = 16  # a 400-column terminal still gets cells worth looking at
MAX_ROWS = 12


@dataclass(frozen=True, slots=True)
class Shape:
    """How the grid divides its area: `columns` x `rows` cells of `cell_width` x `cell_height`."""

    columns: int
    rows: int
    cell_width: int
    cell_height: int

    @property
    def cells(self) -> int:
        return self.columns * self.rows

    @property
    def picture_area(self) -> tuple[int, int]:
        """Columns x rows a cell's picture may use (inside its border, above its caption)."""
        return (
            max(1, self.cell_width - CELL_BORDER),
            max(1, self.cell_height - CELL_BORDER - CAPTION_ROWS),
        )


def grid_shape(width: int, height: int) -> Shape:
    """As many cells as fit `width` x `height` (at least one), sharing the spare cells."""
    columns = max(1, min(MAX_COLUMNS, width // CELL_MIN_WIDTH))
    rows = max(1, min(MAX_ROWS, height // CELL_MIN_HEIGHT))
    return Shape(columns, rows, max(1, width // columns), max(1, height // rows))


def top_row_for(cursor: int, top_row: int, shape: Shape) -> int:
    """The first grid row to show so that the cursor's row is on screen (scrolling least)."""
    row = cursor // shape.columns
    if row < top_row:
        return row
    if row >= top_row + shape.rows:
        return row - shape.rows + 1
    return top_row


def last_top_row(total: int, shape: Shape) -> int:
    """The largest useful first row: the last screen is full when there are enough rows."""
    rows_of_images = -(-total // shape.columns)
    return max(0, rows_of_images - shape.rows)


def wanted(
    total: int, top_row: int, shape: Shape, cursor: int, *, downward: bool = True
) -> list[tuple[int, int]]:
    """(index, priority) of the images to fetch: the visible ones (the cursor's neighbours
    first: priority is the distance to it), then one screen ahead in the direction the grid
    last moved (after every visible one). Lower priority = sooner."""
    first = top_row * shape.columns
    last = min(total, first + shape.cells)
    out = [(index, abs(index - cursor)) for index in range(first, last)]
    if downward:
        ahead = range(last, min(total, last + shape.cells))
        out += [(index, shape.cells + index - last) for index in ahead]
    else:
        ahead = range(max(0, first - shape.cells), first)
        out += [(index, shape.cells + first - 1 - index) for index in ahead]
    return sorted(out, key=lambda pair: pair[1])


def moved(cursor: int, key: str, total: int, shape: Shape) -> int:
    """Where the cursor goes for a move (`left`, `right`, `up`, `down`, `page_up`,
    `page_down`, `first`, `last`); clamped to the list: up/down keep the column, and a move down from the
    row above a short last row lands on the last image."""
    if total <= 0:
        return 0
    step = {
        "left": -1,
        "right": 1,
        "up": -shape.columns,
        "down": shape.columns,
        "page_up": -shape.cells,
        "page_down": shape.cells,
    }
    if key == "first":
        return 0
    if key == "last":
        return total - 1
    target = cursor + step[key]
    if target < 0:
        return cursor if key == "up" else 0  # up on the first row stays: there is no row above
    return max(0, min(target, total - 1))
