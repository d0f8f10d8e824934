"""The blocking reads, each a fresh read-only connection: wrangler dev may rewrite or wipe its
state at any moment, so nothing (a connection, a path, a parsed record) is kept between calls."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from imgtui.service.errors import ImagesError
from imgtui.service.models import FileInfo, ImageMetadata
from imgtui.service.sniff import sniff_image

from .layout import StateLayout, connect_read_only, find_layout, layout_error, open_blob
from .records import ROW_QUERY, Entry, parse_row

# KV's value limit (25 MiB): the mock cannot have stored a larger blob.
MAX_BLOB_BYTES = 25 * 1024 * 1024


def _now_ms() -> int:
    return int(time.time() * 1000)


@contextmanager
def _connection(layout: StateLayout) -> Iterator[sqlite3.Connection]:
    conn = connect_read_only(layout.database)
    try:
        yield conn
    finally:
        conn.close()


def read_entries(given: Path) -> list[Entry]:
    """Every image of the state, in no particular order (one statement, then the lock is gone)."""
    layout = find_layout(given)
    with _connection(layout) as conn:
        rows = conn.execute(ROW_QUERY).fetchall()
    now, name = _now_ms(), str(layout.database)
    return [entry for row in rows if (entry := parse_row(row, name, now)) is not None]


def _read_entry(layout: StateLayout, image_id: str) -> Entry | None:
    with _connection(layout) as conn:
        row = conn.execute(ROW_QUERY + " WHERE key = ?", (image_id,)).fetchone()
    return None if row is None else parse_row(row, str(layout.database), _now_ms())


def read_entry(given: Path, image_id: str) -> ImageMetadata | None:
    entry = _read_entry(find_layout(given), image_id)
    return None if entry is None else entry.image


def open_image(given: Path, image_id: str) -> tuple[ImageMetadata, BinaryIO, int] | None:
    """The record, its blob opened, and the blob's size; None when the image is missing."""
    layout = find_layout(given)
    entry = _read_entry(layout, image_id)
    if entry is None:
        return None
    try:
        blob, size = open_blob(layout, entry.blob_id, MAX_BLOB_BYTES)
    except FileNotFoundError:
        # Deleted between the two reads (wrangler dev is running), or the state is damaged.
        if _read_entry(layout, image_id) is None:
            return None
        raise layout_error(
            f"wrangler dev image {image_id[:80]!r}: its blob {entry.blob_id[:80]} is missing from"
            f" {layout.blobs_dir}"
        ) from None
    return entry.image, blob, size


def read_file_info(given: Path, image_id: str) -> tuple[ImageMetadata, FileInfo | None] | None:
    """The record and, when the bytes are an image imgtui recognises, their format and size.
    The mock stores any bytes it is given (it sniffs nothing), so None is a normal answer."""
    opened = open_image(given, image_id)
    if opened is None:
        return None
    image, blob, size = opened
    with blob:
        data = blob.read(MAX_BLOB_BYTES)
    try:
        info = sniff_image(data)
    except ImagesError:
        return image, None
    return image, FileInfo(content_type=info.mime, size=size, width=info.width, height=info.height)
