"""The library's SQLite file: connection settings, schema, and the per-library secrets.

Durability choices (see benchmarks/bench_local.py for the measurements):
- WAL: readers never block the writer nor each other, so the TUI can list while a script
  uploads from another process.
- synchronous=FULL: every commit fsyncs the WAL before it returns, so an upload that returned
  survives a process kill *and* a power cut. (NORMAL would already survive a process kill,
  since the WAL is in the OS page cache, but could lose the last commits on power loss.)
- Image bytes live in a separate `blobs` table, written in the same transaction as the
  record: no record can exist without its bytes, and listing never reads a blob page.
- Only the writer creates the file and the schema; readers open it read-only (`mode=ro`), so
  a reader can never make a new, empty library where the real one was removed.
- The writer remembers the identity (device, inode) of the files it opened and checks them
  before every COMMIT: after `rm library.sqlite3*` (or a file moved over it) a write fails
  instead of being acknowledged into a file nobody will ever open again.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from imgtui.service.errors import ErrorCode, ImagesError

LIBRARY_FILE = "library.sqlite3"
SCHEMA_VERSION = 2  # 2: the account's named variants and signing keys
BUSY_TIMEOUT_S = 10.0  # how long a write waits for another process's write to finish
_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6

SecretFactory = Callable[[int], str]  # nbytes of randomness -> URL-safe text, like token_urlsafe

# AUTOINCREMENT: a sequence is never reused, even after the newest image is deleted, so a
# cursor that points at a deleted image can never skip an image uploaded later.
_SCHEMA = (
    """CREATE TABLE images (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        filename TEXT,
        uploaded_ms INTEGER NOT NULL,
        require_signed_urls INTEGER NOT NULL DEFAULT 0,
        meta TEXT,
        creator TEXT,
        content_type TEXT NOT NULL,
        size INTEGER NOT NULL,
        width INTEGER,
        height INTEGER
    )""",
    "CREATE INDEX images_by_creator ON images (creator, seq)",
    "CREATE TABLE blobs (seq INTEGER PRIMARY KEY, data BLOB NOT NULL)",
    "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
)

# Version 2: the account's named variants (https://developers.cloudflare.com/images/manage-images/create-variants/).
_VARIANTS_TABLE = """CREATE TABLE variants (
    id TEXT PRIMARY KEY,
    fit TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    metadata TEXT NOT NULL,
    never_require_signed_urls INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID"""
_INSERT_VARIANT = "INSERT INTO variants (id, fit, width, height, metadata, never_require_signed_urls) VALUES (?, ?, ?, ?, ?, ?)"
# `public` as imgtui serves it: the stored file, untouched (a box no image exceeds, EXIF kept).
PUBLIC_ROW = ("public", "scale-down", 12_000, 12_000, "keep", 0)
# What version 1 served as `thumbnail` (Pillow drops EXIF when it re-encodes).
THUMBNAIL_ROW = ("thumbnail", "scale-down", 320, 320, "none", 0)
FLEXIBLE_VARIANTS_KEY = "flexible_variants"
# Version 2 too: direct creator uploads. A draft is an image row without bytes whose
# `draft_key` is the secret end of its one-time upload URL.
_DRAFT_COLUMNS = (
    "ALTER TABLE images ADD COLUMN draft_key TEXT",
    "ALTER TABLE images ADD COLUMN draft_expires_ms INTEGER",
    "CREATE UNIQUE INDEX images_by_draft_key ON images (draft_key) WHERE draft_key IS NOT NULL",
)
# Version 2 too: several signing keys (https://developers.cloudflare.com/images/manage-images/serve-images/serve-private-images/);
# `default` starts with the value version 1 kept as the `signing_key` setting.
_KEYS_TABLE = "CREATE TABLE signing_keys (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID"
_DEFAULT_KEY_FROM_SETTINGS = (
    "INSERT INTO signing_keys (name, value) SELECT 'default', value FROM settings WHERE key = 'signing_key'"
)


@dataclass(frozen=True, slots=True)
class LibraryKeys:
    """Random values generated once per library and stored in it."""

    account_hash: str  # the delivery URLs' account segment
    signing_key: str  # signs delivery URLs (imgtui.service.signing)
    cursor_secret: bytes  # authenticates list cursors


FileIdentity = tuple[str, int, int]  # path, st_dev, st_ino
_OPENED_FILES = ("", "-wal", "-shm")  # the database and the WAL files SQLite keeps open


class LibraryConnection(sqlite3.Connection):
    """A connection that remembers which files it opened, to notice when they are gone."""

    opened_files: tuple[FileIdentity, ...] = ()


def _identities(database: Path) -> tuple[FileIdentity, ...]:
    found = []
    for suffix in _OPENED_FILES:
        path = f"{database}{suffix}"
        with contextlib.suppress(FileNotFoundError):
            info = os.stat(path)
            found.append((path, info.st_dev, info.st_ino))
    return tuple(found)


def check_files_in_place(conn: sqlite3.Connection) -> None:
    """Raise unless every file `conn` opened is still the one at its path (a few stat calls:
    ~1 us each, next to a commit's fsync of ~1 ms or more)."""
    for path, device, inode in getattr(conn, "opened_files", ()):
        try:
            info = os.stat(path)
        except OSError:
            moved = True
        else:
            moved = (info.st_dev, info.st_ino) != (device, inode)
        if moved:
            raise ImagesError(
                ErrorCode.STORAGE,
                f"The library file {path} was removed or replaced while imgtui had it open, so nothing"
                " was saved (it would have gone into the removed file). Put the file back, or reopen"
                " the library (restart imgtui) to use whatever is at that path now.",
            )


@contextlib.contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE takes the write lock up front (waiting up to the busy timeout), so a
    transaction never fails half-way on a lock upgrade; any error rolls everything back.
    The library's files are checked to be in place before the COMMIT acknowledges anything."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        check_files_in_place(conn)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _set_wal(conn: sqlite3.Connection) -> None:
    # Switching a new file to WAL needs a moment of exclusive access; another process
    # opening the same new library at the same time can make it fail once: retry.
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        except sqlite3.OperationalError as exc:
            # Only a busy file is worth waiting for; read-only or damaged fails now, not in 10 s.
            busy = (getattr(exc, "sqlite_errorcode", 0) & 0xFF) in (_SQLITE_BUSY, _SQLITE_LOCKED)
            if not busy or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
            continue
        if mode.lower() != "wal":
            raise ImagesError(ErrorCode.STORAGE, f"The library cannot use WAL mode (journal mode is {mode})")
        return


def connect(root: Path, *, writer: bool, new_secret: SecretFactory | None = None) -> sqlite3.Connection:
    """Open the library file: the writer creates directory, file and schema if needed, a
    reader opens an existing library read-only. `new_secret` makes the account hash and
    signing key of a new library (default: secrets.token_urlsafe)."""
    if not writer:
        return _connect_reader(root / LIBRARY_FILE)
    root.mkdir(parents=True, exist_ok=True)
    database = root / LIBRARY_FILE
    conn = sqlite3.connect(database, timeout=BUSY_TIMEOUT_S, isolation_level=None, factory=LibraryConnection)
    try:
        _set_wal(conn)
        _tune(conn)
        _ensure_schema(conn, new_secret or secrets.token_urlsafe)
        # After the first read, so the WAL files exist too.
        conn.opened_files = _identities(database)
    except BaseException:
        conn.close()
        raise
    return conn


def _connect_reader(database: Path) -> sqlite3.Connection:
    if not database.is_file():
        raise ImagesError(
            ErrorCode.STORAGE,
            f"The library file {database} is missing: it was removed while imgtui had the library"
            " open. Put it back, or reopen the library (restart imgtui) to start a new one there.",
        )
    uri = f"{database.absolute().as_uri()}?mode=ro"
    conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    try:
        _tune(conn)
        conn.execute("PRAGMA query_only=1")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version != SCHEMA_VERSION:
            raise ImagesError(
                ErrorCode.STORAGE,
                f"The library file {database} is not a complete imgtui library (schema version"
                f" {version}): was it replaced while imgtui had it open? Reopen the library.",
            )
    except BaseException:
        conn.close()
        raise
    return conn


def _tune(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA synchronous=FULL")
    # Keep the WAL from staying huge after a burst of large uploads.
    conn.execute("PRAGMA journal_size_limit=67108864")
    # Reads straight from the mapped file and a bigger page cache keep a page of a big
    # library as fast as one of a small library (measured in benchmarks/bench_local.py).
    conn.execute("PRAGMA mmap_size=268435456")
    conn.execute("PRAGMA cache_size=-16384")


def _ensure_schema(conn: sqlite3.Connection, new_secret: SecretFactory) -> None:
    if conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
        return
    with write_transaction(conn):
        version = conn.execute("PRAGMA user_version").fetchone()[0]  # another process may have won
        if version == SCHEMA_VERSION:
            return
        if version == 1:
            _migrate_from_1(conn)
            return
        if version != 0:
            raise ImagesError(
                ErrorCode.STORAGE,
                f"The library was written by a newer imgtui (schema version {version}; this one reads"
                f" version {SCHEMA_VERSION}): upgrade imgtui to open it",
            )
        if conn.execute("SELECT count(*) FROM sqlite_schema").fetchone()[0]:
            raise ImagesError(
                ErrorCode.STORAGE, "The library file holds a database that is not an imgtui library"
            )
        for statement in _SCHEMA:
            conn.execute(statement)
        conn.executemany(
            "INSERT INTO settings (key, value) VALUES (?, ?)",
            [
                ("account_hash", new_secret(16)),
                ("signing_key", new_secret(32)),
                ("cursor_secret", secrets.token_hex(32)),
                (FLEXIBLE_VARIANTS_KEY, "0"),  # off on a new account, as on Cloudflare
            ],
        )
        conn.execute(_VARIANTS_TABLE)
        conn.execute(_INSERT_VARIANT, PUBLIC_ROW)  # a new account has `public` only
        conn.execute(_KEYS_TABLE)
        conn.execute(_DEFAULT_KEY_FROM_SETTINGS)
        for statement in _DRAFT_COLUMNS:
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")


def _migrate_from_1(conn: sqlite3.Connection) -> None:
    """Inside the writer's transaction. A version-1 library served `public`, `thumbnail` and
    every flexible variant: it keeps all three, so no URL it handed out stops working."""
    conn.execute(_VARIANTS_TABLE)
    conn.executemany(_INSERT_VARIANT, [PUBLIC_ROW, THUMBNAIL_ROW])
    conn.execute(_KEYS_TABLE)
    conn.execute(_DEFAULT_KEY_FROM_SETTINGS)
    for statement in _DRAFT_COLUMNS:
        conn.execute(statement)
    conn.execute("INSERT OR REPLACE INTO settings (key, value) VALUES (?, '1')", (FLEXIBLE_VARIANTS_KEY,))
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")


def load_keys(conn: sqlite3.Connection) -> LibraryKeys:
    values = dict(conn.execute("SELECT key, value FROM settings").fetchall())
    try:
        return LibraryKeys(
            account_hash=values["account_hash"],
            signing_key=values["signing_key"],
            cursor_secret=bytes.fromhex(values["cursor_secret"]),
        )
    except (KeyError, ValueError):
        raise ImagesError(ErrorCode.STORAGE, "The library's settings are damaged (missing keys)") from None
