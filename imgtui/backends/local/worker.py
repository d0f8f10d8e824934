"""A thread that owns one SQLite connection, so no sqlite3 call ever runs on the event loop
and each connection stays on the thread that made it."""

from __future__ import annotations

import asyncio
import errno
import os
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from imgtui.service.errors import ErrorCode, ImagesError

from .schema import LIBRARY_FILE

T = TypeVar("T")


# SQLite's primary result codes (the low byte of `sqlite_errorcode`).
_SQLITE_PERM, _SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY = 3, 5, 6, 8
_SQLITE_IOERR, _SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_CANTOPEN, _SQLITE_NOTADB = 10, 11, 13, 14, 26
_READ_ONLY_ERRNOS = {errno.EROFS, errno.EACCES, errno.EPERM}


def _writable(root: Path) -> bool:
    """Can this process write in the library (its folder, or the nearest existing parent)?"""
    probe = root
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    files = [probe] if probe != root else [root, root / LIBRARY_FILE]
    return all(os.access(path, os.W_OK) for path in files if path.exists())


def storage_error(what: str, exc: BaseException, root: Path | None = None) -> ImagesError:
    """The user-facing failure for an error of the library file or its disk.

    sqlite's own texts ("unable to open database file") do not say what to do, so the
    common causes get their own sentence: busy, disk full, read-only, damaged.
    """
    detail = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    os_errno = getattr(exc, "errno", None)
    if code in (_SQLITE_BUSY, _SQLITE_LOCKED) or (
        isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)
    ):
        return ImagesError(
            ErrorCode.STORAGE, f"{what}: the library stayed busy (another process is writing); try again"
        )
    if code == _SQLITE_FULL or os_errno in (errno.ENOSPC, errno.EDQUOT):
        return ImagesError(
            ErrorCode.STORAGE,
            f"{what}: the disk is full ({detail}); nothing was saved. Free some space (deleting"
            " images still works) and try again",
        )
    if os_errno in (errno.EEXIST, errno.ENOTDIR):
        return ImagesError(
            ErrorCode.STORAGE, f"{what}: the library must be a folder, and a file is in the way ({detail})"
        )
    read_only = code == _SQLITE_READONLY or os_errno in _READ_ONLY_ERRNOS
    if not read_only and code in (_SQLITE_CANTOPEN, _SQLITE_PERM) and root is not None:
        read_only = not _writable(root)
    if read_only:
        return ImagesError(
            ErrorCode.STORAGE,
            f"{what} is read-only ({detail}); imgtui needs to write in the library folder, even to browse it",
        )
    if code in (_SQLITE_NOTADB, _SQLITE_CORRUPT):
        return ImagesError(
            ErrorCode.STORAGE, f"{what}: the library file is damaged or is not an imgtui library ({detail})"
        )
    if code == _SQLITE_IOERR:
        return ImagesError(ErrorCode.STORAGE, f"{what}: the disk reported an I/O error ({detail})")
    return ImagesError(ErrorCode.STORAGE, f"{what}: {detail}")


class ConnectionWorker:
    """One single-thread executor plus the connection it opens lazily on first use."""

    def __init__(self, name: str, connect: Callable[[], sqlite3.Connection], root: Path) -> None:
        self._name = name
        self._connect = connect
        self._root = root  # for error messages and the read-only check
        self._executor: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(connection, *args)` on this worker's thread."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=self._name)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._call, fn, args)

    def _call(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        try:
            if self._conn is None:
                self._conn = self._connect()
            return fn(self._conn, *args)
        except ImagesError:
            raise
        except (sqlite3.Error, OSError) as exc:
            raise storage_error(f"Local library {self._root}", exc, self._root) from None
        except ValueError as exc:  # a stored value we cannot read back (edited by hand?)
            raise storage_error(f"Local library {self._root} holds a damaged record", exc) from None

    def _close_connection(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            conn.close()

    async def aclose(self) -> None:
        executor, self._executor = self._executor, None
        if executor is None:
            return
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(executor, self._close_connection)
        finally:
            executor.shutdown(wait=False)
