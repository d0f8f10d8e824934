"""A thread that owns one SQLite connection, so no sqlite3 call ever runs on the event loop
and each connection stays on the thread that made it."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from imgtui.service.errors import ErrorCode, ImagesError

T = TypeVar("T")


def storage_error(what: str, exc: BaseException) -> ImagesError:
    if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
        return ImagesError(
            ErrorCode.STORAGE, f"{what}: the library stayed busy (another process is writing); try again"
        )
    detail = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return ImagesError(ErrorCode.STORAGE, f"{what}: {detail}")


class ConnectionWorker:
    """One single-thread executor plus the connection it opens lazily on first use."""

    def __init__(self, name: str, connect: Callable[[], sqlite3.Connection], where: str) -> None:
        self._name = name
        self._connect = connect
        self._where = where  # for error messages: the library path
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
            raise storage_error(f"Local library {self._where}", exc) from None
        except ValueError as exc:  # a stored value we cannot read back (edited by hand?)
            raise storage_error(f"Local library {self._where} holds a damaged record", exc) from None

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
