"""A slice of disk space kept beside the library, so deleting images works on a full disk.

SQLite needs free space to delete too: in WAL mode a delete appends the pages it changes to
the `-wal` file, so on a full disk it fails with SQLITE_FULL like an upload, and the user
cannot free space through imgtui. The writer therefore keeps `library.space-reserve`, a few
MiB of really allocated blocks (posix_fallocate; written bytes where that is not supported).
When a delete fails for lack of space, the reserve is removed and the delete tried once more;
the reserve is made again at a later write once space allows. Uploads and updates never
release it: the space is kept for the deletes that make room. (The "ballast file" of
system administration; SQLite's SQLITE_FULL: https://www.sqlite.org/rescode.html#full.)
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

RESERVE_FILE = "library.space-reserve"
RESERVE_BYTES = 4 * 1024 * 1024  # a delete writes a few pages; this is hundreds of deletes
RETRY_AFTER_S = 5.0  # after a failed re-creation (the disk is still full), wait this long

_SQLITE_FULL = 13
_OUT_OF_SPACE_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
_NO_FALLOCATE_ERRNOS = {errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS}

T = TypeVar("T")


def is_out_of_space(exc: BaseException) -> bool:
    """SQLite's "database or disk is full", or an OS error saying the same."""
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    return code == _SQLITE_FULL or getattr(exc, "errno", None) in _OUT_OF_SPACE_ERRNOS


class SpaceReserve:
    """The reserve file of one library. Used on the writer's thread only."""

    def __init__(self, root: Path, size: int = RESERVE_BYTES) -> None:
        self.path = root / RESERVE_FILE
        self.size = size
        self._present = False
        self._next_try = 0.0  # monotonic time of the next attempt to re-create it

    def ensure(self) -> bool:
        """Make sure the reserve exists (cheap when it does); False when there is no room
        for it yet, or the folder is not writable: a best effort, never an error."""
        if self._present or time.monotonic() < self._next_try:
            return self._present
        try:
            info = self.path.stat()
            self._present = info.st_size >= self.size and info.st_blocks * 512 >= self.size
        except FileNotFoundError:
            self._present = False
        except OSError:
            return False
        if not self._present:
            self._present = self._create()
        if not self._present:
            self._next_try = time.monotonic() + RETRY_AFTER_S
        return self._present

    def release(self) -> bool:
        """Free the reserve's space; False when there was none to free."""
        self._present = False
        self._next_try = 0.0
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            return False
        return True

    def _create(self) -> bool:
        partial = self.path.with_name(f"{self.path.name}.new")
        try:
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        except OSError:
            return False
        try:
            try:
                # Real blocks, not a sparse file: only allocated space can be given back.
                os.posix_fallocate(fd, 0, self.size)
            except OSError as exc:
                if exc.errno not in _NO_FALLOCATE_ERRNOS:
                    raise
                # Random bytes, not zeros, so a compressing file system stores them all.
                for _ in range(0, self.size, 1 << 20):
                    os.write(fd, os.urandom(1 << 20))
            os.close(fd)
            fd = -1
            os.replace(partial, self.path)
            return True
        except OSError:
            if fd >= 0:
                os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(partial)
            return False


def keeping_reserve(reserve: SpaceReserve, write: Callable[..., T]) -> Callable[..., T]:
    """`write(conn, ...)`, then the reserve made again if it is missing (a no-op when present)."""

    def run(conn: sqlite3.Connection, *args: object) -> T:
        result = write(conn, *args)
        reserve.ensure()
        return result

    return run


def using_reserve_on_full_disk(reserve: SpaceReserve, write: Callable[..., T]) -> Callable[..., T]:
    """`write(conn, ...)` that, failing for lack of space, frees the reserve and runs once
    more: for deletes only, which is what the reserve is for."""

    def run(conn: sqlite3.Connection, *args: object) -> T:
        try:
            result = write(conn, *args)
        except (sqlite3.Error, OSError) as exc:
            if not is_out_of_space(exc) or not reserve.release():
                raise
            result = write(conn, *args)  # the reserve's space is free now
        reserve.ensure()  # most likely not yet: retried at later writes
        return result

    return run
