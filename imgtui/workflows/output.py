"""How the command line shows images: the binding's JSON, and plain tables sized to a width.

Pure functions (no printing): `imgtui.commands` writes what these return. Every string that
came from a backend goes through `safe_text` before it reaches a terminal, and JSON is
ASCII-escaped, so a hostile filename or creator (`\\x1b]2;X\\x07`) shows as escapes.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from imgtui.common.sizes import human_size
from imgtui.common.text import safe_text
from imgtui.service import ImageMetadata
from imgtui.service.models import FileInfo


def image_json(image: ImageMetadata) -> dict[str, Any]:
    """The binding's JSON shape of one image (`requireSignedURLs`, ISO `uploaded`)."""
    return image.model_dump(mode="json", by_alias=True)


def json_text(value: Any, *, indent: int | None = None) -> str:
    """JSON with every non-ASCII and control character escaped: safe in any terminal."""
    return json.dumps(value, ensure_ascii=True, indent=indent)


def uploaded_text(image: ImageMetadata) -> str:
    return image.uploaded.strftime("%Y-%m-%d %H:%M")


def cell_width(text: str) -> int:
    """Terminal columns of `text`: East Asian wide and full-width characters take two."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def fit(text: str, width: int) -> str:
    """`text` cut to `width` columns (ending in `…` when cut) and padded to exactly `width`."""
    if cell_width(text) <= width:
        return text + " " * (width - cell_width(text))
    out, used = [], 0
    for ch in text:
        step = cell_width(ch)
        if used + step > width - 1:
            break
        out.append(ch)
        used += step
    return "".join(out) + "…" + " " * (width - 1 - used)


@dataclass(frozen=True, slots=True)
class Column:
    title: str
    minimum: int  # columns it keeps however narrow the terminal
    wanted: int  # columns it takes when there is room
    flexible: bool = False  # shares what is left of the width
    capped: bool = False  # a flexible column that never grows past `wanted`


LIST_COLUMNS = (
    Column("ID", 8, 36, flexible=True, capped=True),  # a generated id is 36 characters
    Column("FILENAME", 8, 24, flexible=True),
    Column("CREATOR", 7, 12, flexible=True),
    Column("UPLOADED", 16, 16),
    Column("SIGNED", 6, 6),
)


def column_widths(columns: Sequence[Column], total: int, *, gap: int = 2) -> list[int]:
    """Widths for `columns` in `total` terminal columns: fixed ones get what they want; of the
    flexible ones, capped ones (the id: whole ids can be copied) grow to what they want first,
    then the others share what is left in proportion to what they want. Under the minima the
    line is simply longer than `total`."""
    widths = [column.minimum if column.flexible else column.wanted for column in columns]
    spare = total - gap * (len(columns) - 1) - sum(widths)
    for i, column in enumerate(columns):
        if column.flexible and column.capped and spare > 0:
            grow = min(spare, column.wanted - widths[i])
            widths[i] += grow
            spare -= grow
    sharing = [i for i, column in enumerate(columns) if column.flexible and not column.capped]
    weight = sum(columns[i].wanted for i in sharing)
    if spare > 0 and weight:
        shares = [spare * columns[i].wanted // weight for i in sharing]
        shares[0] += spare - sum(shares)  # the rounding remainder
        for i, share in zip(sharing, shares, strict=True):
            widths[i] += share
    return widths


def table_line(cells: Sequence[str], widths: Sequence[int], *, gap: int = 2) -> str:
    """One row: each cell made terminal-safe, cut or padded to its width."""
    parts = [fit(safe_text(cell), width) for cell, width in zip(cells, widths, strict=True)]
    return (" " * gap).join(parts).rstrip()


def list_cells(image: ImageMetadata) -> list[str]:
    return [
        image.id,
        image.filename or "",
        image.creator or "",
        uploaded_text(image),
        "yes" if image.require_signed_urls else "no",
    ]


def detail_lines(image: ImageMetadata, file_info: FileInfo | None = None) -> list[str]:
    """`imgtui info` without --json: one `key: value` line per field, all terminal-safe."""
    rows = [
        ("id", image.id),
        ("filename", image.filename or ""),
        ("uploaded", image.uploaded.isoformat(timespec="seconds")),
        ("creator", image.creator or ""),
        ("signed URLs", "required" if image.require_signed_urls else "not required"),
    ]
    if file_info is not None:
        dims = f"{file_info.width}x{file_info.height}" if file_info.width and file_info.height else "?"
        rows.append(("file", f"{file_info.content_type}, {human_size(file_info.size)}, {dims}"))
    rows.append(("metadata", json_text(image.meta) if image.meta else ""))
    rows.extend(("variant", variant) for variant in image.variants)
    return [f"{key:<12} {safe_text(value)}" for key, value in rows]
