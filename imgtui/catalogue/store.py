"""The catalogue's SQLite file: one compact row per image plus an FTS5 trigram index of its
searchable text. A cache of what the backend listed, never the source of truth: deleting the
file loses nothing. Every call runs on one worker thread (`CatalogueStore.run`)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar
from urllib.parse import quote

if TYPE_CHECKING:  # the models are pydantic: imported by the first record, not by the launch
    from imgtui.service.models import FileInfo, ImageMetadata

T = TypeVar("T")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# 2: meta_json and variants read back; 3: `listed`, the backend's order of ties; 4: search text
# casefolded by Python alone (the trigram tokenizer folded again its own way: a word of three
# letters or more found "µ" for "μ" where a shorter word's scan did not, nor did Python).
SCHEMA_VERSION = 4


class CatalogueRow(NamedTuple):
    """What the list shows of one image: a plain tuple, no pydantic model per row."""

    id: str
    filename: str
    uploaded: int  # ms since the epoch, UTC
    creator: str
    signed: bool
    draft: bool
    format: str  # "" when unknown (Cloudflare's list does not say)
    size: int  # bytes, -1 when unknown
    width: int  # -1 when unknown (or SVG)
    height: int
    meta_json: str | None = None
    variants: str = ""  # the variant URLs, newline-separated, the quoted id as VARIANT_ID


ROW_COLUMNS = (
    "id, filename, uploaded, creator, signed, draft, format, size, width, height, meta_json, variants"
)
# Variant URLs differ between images only by the id: stored with this mark in its place, every
# row holds the same short text (one variant: ~50 bytes), not its own URLs.
VARIANT_ID = "\x01"


def catalogue_path(key: str, cache_dir: Path | None = None) -> Path:
    """The file for what is open, named by a stable hash of `key` (a local library's resolved
    path, or an account id with its API host), under the platform cache directory."""
    if cache_dir is None:
        import platformdirs

        cache_dir = Path(platformdirs.user_cache_dir("imgtui"))
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return cache_dir / "catalogue" / f"{digest}.sqlite3"


def has_trigram(conn: sqlite3.Connection) -> bool:
    try:
        conn.execute("CREATE VIRTUAL TABLE temp.probe USING fts5(x, tokenize='trigram')")
    except sqlite3.OperationalError:
        return False
    conn.execute("DROP TABLE temp.probe")
    return True


def _schema(fts: bool) -> str:
    search = (
        """
CREATE VIRTUAL TABLE IF NOT EXISTS search USING fts5(
    search_text, content='images', content_rowid='rowid',
    tokenize='trigram case_sensitive 1');
CREATE TRIGGER IF NOT EXISTS images_ai AFTER INSERT ON images BEGIN
    INSERT INTO search(rowid, search_text) VALUES (new.rowid, new.search_text);
END;
CREATE TRIGGER IF NOT EXISTS images_ad AFTER DELETE ON images BEGIN
    INSERT INTO search(search, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
END;
CREATE TRIGGER IF NOT EXISTS images_au AFTER UPDATE OF search_text ON images BEGIN
    INSERT INTO search(search, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
    INSERT INTO search(rowid, search_text) VALUES (new.rowid, new.search_text);
END;
"""
        if fts
        else ""
    )
    # Sort columns are NOT NULL ("" / -1 for unknown) so (column, id) row values order every
    # row and an index serves each sort, both directions.
    return (
        """
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS images (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    filename TEXT NOT NULL,
    uploaded INTEGER NOT NULL,
    creator TEXT NOT NULL,
    signed INTEGER NOT NULL,
    draft INTEGER NOT NULL,
    format TEXT NOT NULL DEFAULT '',
    size INTEGER NOT NULL DEFAULT -1,
    width INTEGER NOT NULL DEFAULT -1,
    height INTEGER NOT NULL DEFAULT -1,
    pixels INTEGER GENERATED ALWAYS AS (CASE WHEN width < 0 THEN -1 ELSE width * height END) VIRTUAL,
    meta_json TEXT,
    variants TEXT NOT NULL DEFAULT '',
    search_text TEXT NOT NULL,
    generation INTEGER NOT NULL DEFAULT 0,
    -- The backend's own order among images uploaded in the same millisecond (a walk's
    -- position, newest highest): the list then shows ties as the backend lists them.
    listed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS by_uploaded ON images (uploaded, listed, id);
CREATE INDEX IF NOT EXISTS by_filename ON images (filename, id);
CREATE INDEX IF NOT EXISTS by_creator ON images (creator, id);
CREATE INDEX IF NOT EXISTS by_size ON images (size, id);
CREATE INDEX IF NOT EXISTS by_pixels ON images (pixels, id);
"""
        + search
    )


def connect(path: Path | str) -> tuple[sqlite3.Connection, bool]:
    """Open (creating) the catalogue; the flag says whether FTS5 trigram is available."""
    if isinstance(path, Path):
        path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA cache_size=-32768")  # 32 MB of page cache
    conn.execute("PRAGMA temp_store=MEMORY")
    fts = has_trigram(conn)
    if _old_schema(conn):
        # A cache: an older layout is dropped and walked again, never migrated.
        conn.executescript(
            "DROP TABLE IF EXISTS search; DROP TABLE IF EXISTS images; DROP TABLE IF EXISTS state;"
        )
    conn.executescript(_schema(fts))
    if get_state(conn, "schema") is None:
        set_state(conn, "schema", str(SCHEMA_VERSION))
    return conn, fts


def _old_schema(conn: sqlite3.Connection) -> bool:
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'state'").fetchone() is None:
        return False
    return get_state(conn, "schema") != str(SCHEMA_VERSION)


def get_state(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def set_state(conn: sqlite3.Connection, key: str, value: str | None) -> None:
    if value is None:
        conn.execute("DELETE FROM state WHERE key = ?", (key,))
    else:
        conn.execute("INSERT OR REPLACE INTO state(key, value) VALUES (?, ?)", (key, value))


def _flatten(value: Any, prefix: str) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _flatten(item, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list):
        for item in value:
            yield from _flatten(item, prefix)
    else:
        text = value if isinstance(value, str) else json.dumps(value)
        yield f"{prefix}={text}"


def search_text(image_id: str, filename: str, creator: str, meta: dict[str, Any] | None) -> str:
    """The text words search: fields on their own lines (no query word holds a newline, so
    none matches across two fields), casefolded here so SQL does no folding of its own
    ("STRASSE" finds "straße": https://docs.python.org/3/library/stdtypes.html#str.casefold)."""
    parts = [image_id, filename, creator, *(_flatten(meta, "") if meta else ())]
    return "\n".join(parts).casefold()


_FORMAT_OF = {"image/svg+xml": "svg", "image/jpeg": "jpeg"}


def format_name(content_type: str) -> str:
    return _FORMAT_OF.get(content_type, content_type.removeprefix("image/"))


def variants_template(image_id: str, variants: list[str]) -> str:
    quoted = quote(image_id, safe="/")
    return "\n".join(url.replace(f"/{quoted}/", f"/{VARIANT_ID}/", 1) for url in variants)


def to_metadata(row: CatalogueRow) -> ImageMetadata:
    """The record the list's actions need (forms, copy), rebuilt from one catalogue row."""
    from imgtui.service.models import ImageMetadata  # pydantic: not on the launch path

    quoted = quote(row.id, safe="/")
    variants = (
        [url.replace(VARIANT_ID, quoted, 1) for url in row.variants.split("\n")] if row.variants else []
    )
    return ImageMetadata(
        id=row.id,
        filename=row.filename or None,
        uploaded=_EPOCH + timedelta(milliseconds=row.uploaded),
        require_signed_urls=row.signed,
        meta=None if row.meta_json is None else json.loads(row.meta_json),
        variants=variants,
        draft=row.draft,
        creator=row.creator or None,
    )


def row_of(fields: tuple[Any, ...]) -> CatalogueRow:
    """A CatalogueRow from a SELECT of ROW_COLUMNS."""
    return CatalogueRow(
        fields[0], fields[1], fields[2], fields[3], bool(fields[4]), bool(fields[5]), *fields[6:]
    )


def record(image: ImageMetadata, info: FileInfo | None = None) -> tuple[Any, ...]:
    filename = image.filename or ""
    creator = image.creator or ""
    return (
        image.id,
        filename,
        int(image.uploaded.timestamp() * 1000),
        creator,
        int(image.require_signed_urls),
        int(image.draft),
        "" if info is None else format_name(info.content_type),
        -1 if info is None else info.size,
        -1 if info is None or info.width is None else info.width,
        -1 if info is None or info.height is None else info.height,
        None if image.meta is None else json.dumps(image.meta, separators=(",", ":")),
        variants_template(image.id, image.variants),
        search_text(image.id, filename, creator, image.meta),
    )


_UPSERT = """
INSERT INTO images (id, filename, uploaded, creator, signed, draft, format, size, width, height,
                    meta_json, variants, search_text, generation, listed)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT(id) DO UPDATE SET
    filename = excluded.filename, uploaded = excluded.uploaded, creator = excluded.creator,
    signed = excluded.signed, draft = excluded.draft,
    format = CASE WHEN excluded.size >= 0 THEN excluded.format ELSE images.format END,
    size = CASE WHEN excluded.size >= 0 THEN excluded.size ELSE images.size END,
    width = CASE WHEN excluded.size >= 0 THEN excluded.width ELSE images.width END,
    height = CASE WHEN excluded.size >= 0 THEN excluded.height ELSE images.height END,
    meta_json = excluded.meta_json,
    variants = excluded.variants,
    search_text = excluded.search_text,
    generation = max(images.generation, excluded.generation)
"""


def upsert(
    conn: sqlite3.Connection,
    records: Iterable[tuple[Any, ...]],
    generation: int,
    listed: Iterable[int] | None = None,
) -> None:
    """Insert or refresh rows (a known file format is kept when the new record lacks one).
    `listed` orders ties of upload time, higher first in newest-first order; by default the
    rows are newer than every row so far, later records newer (uploads, in upload order)."""
    rows = list(records)
    if listed is None:
        listed = take_ranks(conn, len(rows))
    conn.executemany(
        _UPSERT, [(*fields, generation, rank) for fields, rank in zip(rows, listed, strict=True)]
    )


def take_ranks(conn: sqlite3.Connection, count: int) -> range:
    """`count` ranks above every row's so far, lowest first. The top is kept in state:
    max(listed) has no index, and each noted upload scanned every row for it."""
    kept = get_state(conn, "listed_top")
    if kept is None:
        top = int(conn.execute("SELECT coalesce(max(listed), 0) FROM images").fetchone()[0])
    else:
        top = int(kept)
    set_state(conn, "listed_top", str(top + count))
    return range(top + 1, top + 1 + count)


def known_ids(conn: sqlite3.Connection, ids: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        found.update(row[0] for row in conn.execute(f"SELECT id FROM images WHERE id IN ({marks})", chunk))
    return found


def delete_ids(conn: sqlite3.Connection, ids: Iterable[str]) -> int:
    return conn.executemany("DELETE FROM images WHERE id = ?", [(image_id,) for image_id in ids]).rowcount


def count_all(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM images").fetchone()[0])


class CatalogueStore:
    """The catalogue file and the one thread that owns its connection."""

    def __init__(self, path: Path | str) -> None:
        self.path = path
        self._executor: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None
        self.fts = True  # known once opened
        self.in_memory = False  # the file could not be used: this session's catalogue is in memory

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn, self.fts = self._open()
        return self._conn

    def _open(self) -> tuple[sqlite3.Connection, bool]:
        """The catalogue is a cache, so no file can stop the list: a corrupt one is moved
        aside and made anew; one that cannot be opened or written (locked, no permission)
        gives way to a catalogue in memory for this session."""
        try:
            return connect(self.path)
        except sqlite3.OperationalError:
            pass  # locked, read-only, unopenable: keep it for a later session
        except sqlite3.DatabaseError:  # not a database, malformed
            if isinstance(self.path, Path):
                stamp = time.strftime("%Y%m%d-%H%M%S")
                for suffix in ("", "-wal", "-shm"):
                    part = self.path.with_name(self.path.name + suffix)
                    with contextlib.suppress(OSError):
                        part.replace(part.with_name(f"{part.name}.corrupt-{stamp}"))
                try:
                    return connect(self.path)
                except sqlite3.DatabaseError:
                    pass
        except OSError:
            pass  # the cache folder cannot be made
        self.in_memory = True
        return connect(":memory:")

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(connection, *args)` on the catalogue's thread, never on the event loop."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="catalogue")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(self._connection(), *args))

    async def transaction(self, fn: Callable[..., T], *args: Any) -> T:
        """Like `run`, inside one write transaction (all or nothing)."""

        def atomic(conn: sqlite3.Connection) -> T:
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = fn(conn, *args)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return result

        return await self.run(atomic)

    async def aclose(self) -> None:
        executor, self._executor = self._executor, None
        if executor is None:
            return

        def close() -> None:
            if self._conn is not None:
                conn, self._conn = self._conn, None
                conn.close()

        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(executor, close)
        finally:
            executor.shutdown(wait=False)
