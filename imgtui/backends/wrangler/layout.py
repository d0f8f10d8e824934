"""Where `wrangler dev` keeps the images of an `images` binding, and the checks that the folder
still has the layout this backend was written against (miniflare's internal format, observed
with wrangler 4.86: https://github.com/cloudflare/workers-sdk/tree/main/packages/miniflare).

    <project>/.wrangler/state/v3/images/
        miniflare-images-KVNamespaceObject/<hash>.sqlite   _mf_entries(key, blob_id, expiration, metadata)
        miniflare-images-KVNamespaceObject/metadata.sqlite the Durable Object's own (ignored)
        images-data/blobs/<blob_id>                        the bytes of each entry

Every mismatch is an ImagesError naming what was expected and where: a changed format must
never be read as a wrong (say, empty) listing.
"""

from __future__ import annotations

import errno
import os
import re
import sqlite3
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from imgtui.service.errors import ErrorCode, ImagesError

STATE_TO_IMAGES = Path("v3", "images")
PROJECT_TO_IMAGES = Path(".wrangler", "state") / STATE_TO_IMAGES
KV_DIR = "miniflare-images-KVNamespaceObject"
BLOBS_DIR = Path("images-data", "blobs")
TABLE = "_mf_entries"
COLUMNS = ("key", "blob_id", "expiration", "metadata")
_DO_METADATA_FILE = "metadata.sqlite"  # the Durable Object's alarm table, not the entries
# miniflare's blob ids are hex; anything else (a separator, "..", a drive) is refused unread.
_BLOB_ID = re.compile(r"[0-9A-Za-z_-]{1,256}")
_BUSY_TIMEOUT_S = 2.0  # wrangler's writes are tiny: waiting longer would only hide a stuck lock


def layout_error(message: str) -> ImagesError:
    return ImagesError(ErrorCode.STORAGE, message)


@dataclass(frozen=True, slots=True)
class StateLayout:
    """The files of one images state, found and checked (paths resolved, symlinks followed)."""

    images_dir: Path
    database: Path
    blobs_dir: Path


def find_images_dir(given: Path) -> Path:
    """`given` is a project folder, its `.wrangler/state`, or `.wrangler/state/v3/images`."""
    for candidate in (given, given / STATE_TO_IMAGES, given / PROJECT_TO_IMAGES):
        if (candidate / KV_DIR).is_dir():
            return candidate
    if not given.is_dir():
        problem = "is not a folder" if given.exists() else "does not exist"
        raise layout_error(f"No wrangler dev state at {given}: it {problem}")
    raise layout_error(
        f"No wrangler dev images under {given}: expected {given / PROJECT_TO_IMAGES / KV_DIR} (a project"
        " folder), or the same under a `.wrangler/state` or its `v3/images`. Does the Worker have an"
        " `images` binding, and has `wrangler dev` stored an image yet?"
    )


def find_layout(given: Path) -> StateLayout:
    images_dir = find_images_dir(given).resolve()
    kv_dir = images_dir / KV_DIR
    databases = sorted(
        path for path in kv_dir.glob("*.sqlite") if path.name != _DO_METADATA_FILE and path.is_file()
    )
    if len(databases) != 1:
        found = ", ".join(path.name for path in databases[:5]) or "none"
        raise layout_error(
            f"Unknown wrangler dev images layout in {kv_dir}: expected exactly one <hash>.sqlite"
            f" besides {_DO_METADATA_FILE}, found {found}"
        )
    return StateLayout(images_dir, databases[0], images_dir / BLOBS_DIR)


def connect_read_only(database: Path) -> sqlite3.Connection:
    """A read-only connection (a `mode=ro` URI): it takes no write lock, so wrangler dev keeps
    writing; WAL lets it read the last committed state meanwhile. Autocommit, so no read
    transaction outlives the statement that needed it."""
    uri = database.as_uri() + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True, timeout=_BUSY_TIMEOUT_S, isolation_level=None)
    try:
        check_table(conn, database)
    except BaseException:
        conn.close()
        raise
    return conn


def check_table(conn: sqlite3.Connection, database: Path) -> None:
    try:
        columns = tuple(row[0] for row in conn.execute(f"SELECT name FROM pragma_table_info('{TABLE}')"))
    except sqlite3.DatabaseError as exc:
        raise layout_error(
            f"Unknown wrangler dev images layout: {database} is not an SQLite database miniflare wrote ({exc})"
        ) from None
    expected = f"a table {TABLE}({', '.join(COLUMNS)})"
    if not columns:
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        found = ", ".join(tables[:5]) or "no tables"
        raise layout_error(
            f"Unknown wrangler dev images layout: expected {expected} in {database}, found {found}"
        )
    if sorted(columns) != sorted(COLUMNS):
        raise layout_error(
            f"Unknown wrangler dev images layout: expected {expected} in {database}, found"
            f" {TABLE}({', '.join(columns)})"
        )


def open_blob(layout: StateLayout, blob_id: str, max_bytes: int) -> tuple[BinaryIO, int]:
    """The blob file opened for reading, and its size. The id is a plain name, the blobs folder
    must resolve inside the images folder, and the file itself must not be a symlink."""
    if not _BLOB_ID.fullmatch(blob_id):
        raise layout_error(
            f"Unknown wrangler dev images layout: blob id {blob_id[:80]!r} is not a plain name"
        )
    blobs_dir = layout.blobs_dir.resolve()
    if not blobs_dir.is_relative_to(layout.images_dir):
        raise layout_error(f"{layout.blobs_dir} leads outside {layout.images_dir}: refusing to read it")
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    path = blobs_dir / blob_id
    if path.is_symlink():  # where O_NOFOLLOW does not exist (Windows)
        raise layout_error(f"{path} is a symlink: refusing to read it")
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise layout_error(f"{path} is a symlink: refusing to read it") from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise layout_error(f"{path} is not a regular file")
        if info.st_size > max_bytes:
            raise layout_error(f"{path} holds {info.st_size} bytes, more than the {max_bytes} a KV value may")
        return os.fdopen(fd, "rb"), info.st_size
    except BaseException:
        os.close(fd)
        raise
