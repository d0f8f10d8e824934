"""The library's SQL, as plain functions over a connection. They run on a worker thread
(see worker.py), never on the event loop."""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import quote

from imgtui.service.backend import DirectUploadRequest, UpdateRequest, UploadRequest
from imgtui.service.errors import ErrorCode, ImagesError, signed_urls_with_custom_id
from imgtui.service.filters import MetadataFilter
from imgtui.service.rules import SortOrder, is_custom_id, metadata_json

from .filter_sql import filter_sql
from .schema import write_transaction

if TYPE_CHECKING:  # the models (pydantic) are imported by the first record made, not to open
    from imgtui.service.models import Blob, FileInfo, ImageMetadata

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LAST_SEQ = (1 << 63) - 1  # "before the first" for a descending scan

# Everything ImageMetadata needs, and nothing from the blobs table.
_META_COLUMNS = "seq, id, filename, uploaded_ms, require_signed_urls, meta, creator, draft_key IS NOT NULL"


@dataclass(frozen=True, slots=True)
class Delivery:
    """How to build variant URLs: `<base>/<account hash>/<quoted id>/<variant>`, one per
    named variant of the library (`bound` reads them, in the same connection as the records)."""

    base: str
    account_hash: str
    names: tuple[str, ...] = ("public",)

    def bound(self, conn: sqlite3.Connection) -> Delivery:
        names = tuple(row[0] for row in conn.execute("SELECT id FROM variants ORDER BY id"))
        return replace(self, names=names)

    def variant_url(self, image_id: str, variant: str) -> str:
        return f"{self.base.rstrip('/')}/{self.account_hash}/{quote(image_id, safe='/')}/{variant}"

    def variants(self, image_id: str) -> list[str]:
        return [self.variant_url(image_id, name) for name in self.names]


def _metadata(row: tuple, delivery: Delivery) -> ImageMetadata:
    from imgtui.service.models import ImageMetadata  # pydantic: with the first record read

    _seq, image_id, filename, uploaded_ms, signed, meta, creator = row[:7]
    draft = bool(row[7]) if len(row) > 7 else False
    return ImageMetadata(
        id=image_id,
        filename=filename,
        uploaded=_EPOCH + timedelta(milliseconds=uploaded_ms),
        require_signed_urls=bool(signed),
        meta=None if meta is None else json.loads(meta),
        variants=delivery.variants(image_id),
        creator=creator,
        draft=draft,
    )


def _meta_text(metadata: dict | None) -> str | None:
    return None if metadata is None else metadata_json(metadata)


Clock = Callable[[], int]  # ms since the epoch
IdFactory = Callable[[], str]


def now_ms() -> int:
    """The default clock (tests pass their own: `Images.local(path, clock=...)`)."""
    return time.time_ns() // 1_000_000


def new_uuid() -> str:
    """The default id factory."""
    return str(uuid.uuid4())


def insert_image(
    conn: sqlite3.Connection,
    request: UploadRequest,
    delivery: Delivery,
    clock: Clock = now_ms,
    new_id: IdFactory = new_uuid,
) -> ImageMetadata:
    """Record and bytes in one transaction: after a crash, either both exist or neither."""
    image_id = request.id if request.id is not None else new_id()
    if request.require_signed_urls and is_custom_id(image_id):
        raise signed_urls_with_custom_id()
    with write_transaction(conn):
        if conn.execute("SELECT 1 FROM images WHERE id = ?", (image_id,)).fetchone():
            raise ImagesError(ErrorCode.ALREADY_EXISTS, "Resource already exists")
        # `uploaded` never goes backwards in sequence order, even if the clock does; the write
        # lock makes the newest row stable while we read it.
        newest = conn.execute("SELECT uploaded_ms FROM images ORDER BY seq DESC LIMIT 1").fetchone()
        uploaded_ms = max(clock(), newest[0] if newest else 0)
        row = (
            image_id,
            request.filename,
            uploaded_ms,
            int(request.require_signed_urls),
            _meta_text(request.metadata),
            request.creator,
            request.content_type,
            len(request.data),
            request.width,
            request.height,
        )
        seq = conn.execute(
            "INSERT INTO images (id, filename, uploaded_ms, require_signed_urls, meta, creator,"
            " content_type, size, width, height) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            row,
        ).lastrowid
        conn.execute("INSERT INTO blobs (seq, data) VALUES (?, ?)", (seq, request.data))
    return _metadata((seq, *row[:6]), delivery.bound(conn))


def bulk_insert_unchecked(
    conn: sqlite3.Connection, rows: list[tuple[str, bytes, str | None]], clock: Clock = now_ms
) -> None:
    """BENCHMARK FILL ONLY: many (id, png bytes, creator) in one transaction, no checks.

    Skips per-image transactions and sniffing so benchmarks/bench_local.py can build a
    100k-image library in seconds. Never use it for real uploads.
    """
    with write_transaction(conn):
        start = clock()
        for image_id, data, creator in rows:
            seq = conn.execute(
                "INSERT INTO images (id, filename, uploaded_ms, creator, content_type, size)"
                " VALUES (?, 'fill.png', ?, ?, 'image/png', ?)",
                (image_id, start, creator, len(data)),
            ).lastrowid
            conn.execute("INSERT INTO blobs (seq, data) VALUES (?, ?)", (seq, data))


def get_metadata(conn: sqlite3.Connection, image_id: str, delivery: Delivery) -> ImageMetadata | None:
    row = conn.execute(f"SELECT {_META_COLUMNS} FROM images WHERE id = ?", (image_id,)).fetchone()
    return None if row is None else _metadata(row, delivery.bound(conn))


def get_file_info(
    conn: sqlite3.Connection, image_id: str, delivery: Delivery
) -> tuple[ImageMetadata, FileInfo] | None:
    row = conn.execute(
        f"SELECT {_META_COLUMNS}, content_type, size, width, height FROM images WHERE id = ?", (image_id,)
    ).fetchone()
    if row is None:
        return None
    from imgtui.service.models import FileInfo

    content_type, size, width, height = row[8:]
    return _metadata(row, delivery.bound(conn)), FileInfo(content_type, size, width, height)


def update_image(
    conn: sqlite3.Connection, image_id: str, request: UpdateRequest, delivery: Delivery
) -> ImageMetadata:
    with write_transaction(conn):
        row = conn.execute(f"SELECT {_META_COLUMNS} FROM images WHERE id = ?", (image_id,)).fetchone()
        if row is None:
            raise ImagesError(ErrorCode.NOT_FOUND, "Image not found")
        if request.require_signed_urls and is_custom_id(image_id):
            raise signed_urls_with_custom_id()
        seq, _id, filename, uploaded_ms, signed, meta, creator, draft = row
        if request.require_signed_urls is not None:
            signed = int(request.require_signed_urls)
        if request.metadata is not None:
            meta = _meta_text(request.metadata)  # replaces, never merges
        if request.creator is not None:
            creator = request.creator
        conn.execute(
            "UPDATE images SET require_signed_urls = ?, meta = ?, creator = ? WHERE seq = ?",
            (signed, meta, creator, seq),
        )
    return _metadata(
        (seq, image_id, filename, uploaded_ms, signed, meta, creator, draft), delivery.bound(conn)
    )


def delete_image(conn: sqlite3.Connection, image_id: str) -> bool:
    with write_transaction(conn):
        row = conn.execute("SELECT seq FROM images WHERE id = ?", (image_id,)).fetchone()
        if row is None:
            return False
        conn.execute("DELETE FROM blobs WHERE seq = ?", row)
        conn.execute("DELETE FROM images WHERE seq = ?", row)
    return True


def list_page(
    conn: sqlite3.Connection,
    *,
    after_seq: int | None,
    limit: int,
    sort_order: SortOrder,
    creator: str | None,
    delivery: Delivery,
    metadata_filter: MetadataFilter | None = None,
) -> tuple[list[ImageMetadata], int | None]:
    """Up to `limit` images after `after_seq` (keyset: cost is independent of library size),
    and the sequence to resume after when there are more (one extra row tells us cheaply)."""
    if sort_order == "asc":
        condition, direction, start = "seq > ?", "ASC", 0
    else:
        condition, direction, start = "seq < ?", "DESC", _LAST_SEQ
    params: list[object] = [start if after_seq is None else after_seq]
    if creator is not None:
        condition += " AND creator = ?"  # served by the (creator, seq) index
        params.append(creator)
    if metadata_filter is not None:
        extra, extra_params = filter_sql(metadata_filter)
        condition += extra
        params += extra_params
    params.append(limit + 1)
    rows = conn.execute(
        f"SELECT {_META_COLUMNS} FROM images WHERE {condition} ORDER BY seq {direction} LIMIT ?", params
    ).fetchall()
    has_more = len(rows) > limit
    rows = rows[:limit]
    bound = delivery.bound(conn)
    images = [_metadata(row, bound) for row in rows]
    return images, (rows[-1][0] if has_more else None)


def list_by_offset(
    conn: sqlite3.Connection,
    *,
    offset: int,
    limit: int,
    sort_order: SortOrder,
    creator: str | None,
    delivery: Delivery,
) -> list[ImageMetadata]:
    """For the deprecated v1 page/per_page list (O(offset), as offsets are). There,
    creator "" means "images without a creator"."""
    direction = "ASC" if sort_order == "asc" else "DESC"
    params: list[str]
    if creator is None:
        where, params = "", []
    elif creator == "":
        where, params = "WHERE creator IS NULL OR creator = ''", []
    else:
        where, params = "WHERE creator = ?", [creator]
    rows = conn.execute(
        f"SELECT {_META_COLUMNS} FROM images {where} ORDER BY seq {direction} LIMIT ? OFFSET ?",
        [*params, limit, offset],
    ).fetchall()
    bound = delivery.bound(conn)
    return [_metadata(row, bound) for row in rows]


def count_images(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM images").fetchone()[0]


def blob_location(conn: sqlite3.Connection, image_id: str) -> tuple[int, int] | None:
    """(seq, size) of an image's bytes; length() of a blob reads no content pages."""
    return conn.execute(
        "SELECT b.seq, length(b.data) FROM images i JOIN blobs b ON b.seq = i.seq WHERE i.id = ?", (image_id,)
    ).fetchone()


def read_blob_chunk(conn: sqlite3.Connection, seq: int, offset: int, size: int) -> bytes:
    """One chunk of an image's bytes. Blobs are never rewritten and sequences never reused,
    so chunks read in separate calls belong to the same image."""
    try:
        with conn.blobopen("blobs", "data", seq, readonly=True) as blob:
            blob.seek(offset)
            return blob.read(size)
    except sqlite3.OperationalError:
        if conn.execute("SELECT 1 FROM blobs WHERE seq = ?", (seq,)).fetchone() is None:
            raise ImagesError(ErrorCode.NOT_FOUND, "Image was deleted while it was being read") from None
        raise


def read_blob(conn: sqlite3.Connection, image_id: str) -> Blob | None:
    row = conn.execute(
        "SELECT b.data, i.content_type FROM images i JOIN blobs b ON b.seq = i.seq WHERE i.id = ?",
        (image_id,),
    ).fetchone()
    from imgtui.service.models import Blob

    return None if row is None else Blob(data=row[0], content_type=row[1])


def insert_draft(
    conn: sqlite3.Connection,
    request: DirectUploadRequest,
    upload_key: str,
    delivery: Delivery,
    clock: Clock = now_ms,
    new_id: IdFactory = new_uuid,
) -> ImageMetadata:
    """A direct creator upload's draft: a record without bytes until its file arrives."""
    image_id = request.id if request.id is not None else new_id()
    with write_transaction(conn):
        if conn.execute("SELECT 1 FROM images WHERE id = ?", (image_id,)).fetchone():
            raise ImagesError(ErrorCode.ALREADY_EXISTS, "Resource already exists")
        newest = conn.execute("SELECT uploaded_ms FROM images ORDER BY seq DESC LIMIT 1").fetchone()
        uploaded_ms = max(clock(), newest[0] if newest else 0)
        expires_ms = int(request.expiry.timestamp() * 1000)
        row = (
            image_id,
            None,
            uploaded_ms,
            int(request.require_signed_urls),
            _meta_text(request.metadata),
            request.creator,
        )
        seq = conn.execute(
            "INSERT INTO images (id, filename, uploaded_ms, require_signed_urls, meta, creator, content_type, size,"
            " draft_key, draft_expires_ms) VALUES (?, ?, ?, ?, ?, ?, '', 0, ?, ?)",
            (*row, upload_key, expires_ms),
        ).lastrowid
    return _metadata((seq, *row, True), delivery.bound(conn))


def complete_draft(
    conn: sqlite3.Connection, upload_key: str, request: UploadRequest, delivery: Delivery, now: int
) -> ImageMetadata:
    """The draft's bytes, once: the upload key is cleared with the same commit."""
    with write_transaction(conn):
        found = conn.execute(
            "SELECT seq, draft_expires_ms FROM images WHERE draft_key = ?", (upload_key,)
        ).fetchone()
        if found is None:
            raise ImagesError(ErrorCode.NOT_FOUND, "Upload URL not found, or already used")
        seq, expires_ms = found
        if now > expires_ms:
            raise ImagesError(ErrorCode.TIMEOUT, "The upload URL has expired")
        conn.execute(
            "UPDATE images SET filename = ?, content_type = ?, size = ?, width = ?, height = ?,"
            " draft_key = NULL, draft_expires_ms = NULL WHERE seq = ?",
            (request.filename, request.content_type, len(request.data), request.width, request.height, seq),
        )
        conn.execute("INSERT INTO blobs (seq, data) VALUES (?, ?)", (seq, request.data))
        row = conn.execute(f"SELECT {_META_COLUMNS} FROM images WHERE seq = ?", (seq,)).fetchone()
    return _metadata(row, delivery.bound(conn))
