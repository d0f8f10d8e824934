"""The TUI's view of the catalogue: a filtered, sorted list addressed by offset. Only the rows
asked for are read (compact tuples), so memory follows the screen, not the library."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

from .query import Query, compile_query, fts_match
from .store import ROW_COLUMNS, SCHEMA_VERSION, CatalogueRow, CatalogueStore, get_state, row_of

T = TypeVar("T")

SortColumn = Literal["uploaded", "filename", "creator", "size", "dimensions", "id"]
_SORT_SQL: dict[str, str] = {
    "uploaded": "uploaded",
    "filename": "filename",
    "creator": "creator",
    "size": "size",
    "dimensions": "pixels",
    "id": "id",
}


_SORT_INDEX = {
    "uploaded": "by_uploaded",
    "filename": "by_filename",
    "creator": "by_creator",
    "size": "by_size",
    "dimensions": "by_pixels",
}
# A filtered read first walks the sort index testing each row (instant when matches are dense:
# "alice" or creator:bob over a million); past this budget it gives way to SQLite's own plan
# (the FTS5 index, the creator index, then a sort), which wins when matches are sparse.
SCAN_BUDGET_S = 0.005


@dataclass(frozen=True, slots=True)
class Where:
    """One filter compiled twice: with the trigram index, and as a plain scan."""

    fts: tuple[str, list[object]]
    scan: tuple[str, list[object]]
    filtered: bool
    match: str | None = None  # the whole filter as one FTS5 MATCH, when it is only words


Stale = Callable[[], bool] | None  # True once nobody wants the answer (a newer keystroke)


class Superseded(Exception):
    """A read stopped because `stale()` said a newer view replaced the one it was for."""


def _never() -> bool:
    return False


def _guarded(conn: sqlite3.Connection, stale: Stale, read: Callable[[], T]) -> T:
    """`read()`, stopped (Superseded) as soon as `stale()` turns true: over a million rows a
    sparse clause scans for hundreds of ms, and the catalogue's one thread must not spend
    them on a keystroke already typed over while the next one and the scrolling wait."""
    if stale is None:
        return read()
    conn.set_progress_handler(lambda: int(stale()), 10_000)
    try:
        return read()
    except sqlite3.OperationalError as exc:
        if "interrupted" in str(exc) and stale():
            raise Superseded from None
        raise
    finally:
        conn.set_progress_handler(None, 0)


def _budgeted(
    conn: sqlite3.Connection, attempt: Callable[[], T], fallback: Callable[[], T], stale: Stale = None
) -> T:
    deadline = time.perf_counter() + SCAN_BUDGET_S
    wanted = stale or _never
    conn.set_progress_handler(lambda: int(time.perf_counter() > deadline or wanted()), 2_000)
    try:
        return attempt()
    except sqlite3.OperationalError as exc:
        if "interrupted" not in str(exc):
            raise
        if wanted():
            raise Superseded from None
    finally:
        conn.set_progress_handler(None, 0)
    return _guarded(conn, stale, fallback)


@dataclass(frozen=True, slots=True)
class Sort:
    column: SortColumn = "uploaded"
    descending: bool = True  # newest first, like the list today


def _order(sort: Sort, reverse: bool = False) -> tuple[str, str]:
    """ORDER BY text and the row-value key, ties broken by id so every row has one place."""
    column = _SORT_SQL[sort.column]
    descending = sort.descending != reverse
    direction = "DESC" if descending else "ASC"
    if column == "id":
        return f"id {direction}", "id"
    if column == "uploaded":  # ties in the backend's own order (store.py: listed)
        return f"uploaded {direction}, listed {direction}, id {direction}", "uploaded, listed, id"
    return f"{column} {direction}, id {direction}", f"{column}, id"


def _count(conn: sqlite3.Connection, where: Where, cap: int | None = None, stale: Stale = None) -> int:
    def run(form: tuple[str, list[object]]) -> int:
        sql, params = form
        if where.match is not None and form is where.fts:  # the index alone, no join
            if cap is None:
                return int(
                    conn.execute(
                        "SELECT count(*) FROM search WHERE search MATCH ?", [where.match]
                    ).fetchone()[0]
                )
            inner = "SELECT 1 FROM search WHERE search MATCH ? LIMIT ?"
            return int(conn.execute(f"SELECT count(*) FROM ({inner})", [where.match, cap]).fetchone()[0])
        if cap is None:
            return int(conn.execute(f"SELECT count(*) FROM images WHERE {sql}", params).fetchone()[0])
        inner = f"SELECT 1 FROM images WHERE {sql} LIMIT ?"
        return int(conn.execute(f"SELECT count(*) FROM ({inner})", [*params, cap]).fetchone()[0])

    if cap is None or not where.filtered or where.match is not None:
        return _guarded(
            conn, stale, lambda: run(where.fts)
        )  # (words only: the index's capped count beats any scan)
    return _budgeted(conn, lambda: run(where.scan), lambda: run(where.fts), stale)


def _count_unless(conn: sqlite3.Connection, where: Where, stale: Callable[[], bool]) -> int | None:
    """An exact count that gives up (None) as soon as `stale()` says nobody wants it: a
    newer keystroke must not wait behind the count of the last one."""
    try:
        return _count(conn, where, None, stale)
    except Superseded:
        return None


def _rows(
    conn: sqlite3.Connection,
    where: Where,
    sort: Sort,
    offset: int,
    limit: int,
    total: int | None,
    stale: Stale = None,
) -> list[CatalogueRow]:
    # OFFSET walks the index from its start; past the middle, walk it from the other end so
    # `G` (the last screen) costs as little as the first.
    reverse = total is not None and offset > total // 2
    if reverse:
        assert total is not None
        offset = max(total - offset - limit, 0)  # the caller keeps offset + limit <= total
    order, _ = _order(sort, reverse)

    def run(form: tuple[str, list[object]], indexed: bool) -> list[tuple[object, ...]]:
        sql, params = form
        index = _SORT_INDEX.get(sort.column) if indexed else None
        source = f"images INDEXED BY {index}" if index else "images"
        return conn.execute(
            f"SELECT {ROW_COLUMNS} FROM {source} WHERE {sql} ORDER BY {order} LIMIT ? OFFSET ?",
            [*params, limit, offset],
        ).fetchall()

    if where.filtered:
        rows = _budgeted(conn, lambda: run(where.scan, True), lambda: run(where.fts, False), stale)
    else:
        rows = _guarded(conn, stale, lambda: run(where.fts, True))
    result = [row_of(r) for r in rows]
    return result[::-1] if reverse else result


def _key_of(conn: sqlite3.Connection, sort: Sort, image_id: str) -> tuple[object, ...] | None:
    _, key = _order(sort)
    row = conn.execute(f"SELECT {key} FROM images WHERE id = ?", (image_id,)).fetchone()
    return None if row is None else tuple(row)


def _position(conn: sqlite3.Connection, where: Where, sort: Sort, image_id: str) -> int | None:
    sql, params = where.fts
    inside = conn.execute(f"SELECT 1 FROM images WHERE ({sql}) AND id = ?", [*params, image_id]).fetchone()
    if inside is None:
        return None
    key = _key_of(conn, sort, image_id)
    if key is None:
        return None
    _, columns = _order(sort)
    before = "<" if not sort.descending else ">"
    marks = ", ".join("?" * len(key))
    found = conn.execute(
        f"SELECT count(*) FROM images WHERE ({sql}) AND ({columns}) {before} ({marks})", [*params, *key]
    ).fetchone()[0]
    return int(found)


def _neighbour(
    conn: sqlite3.Connection,
    where: Where,
    sort: Sort,
    image_id: str | None,
    forward: bool,
) -> str | None:
    """The id of the next (or previous) row matching `where` after `image_id` in sort order,
    wrapping around the ends; None when nothing matches."""
    sql, params = where.fts
    order, columns = _order(sort, reverse=not forward)
    key = None if image_id is None else _key_of(conn, sort, image_id)
    if key is not None:
        after = ">" if forward != sort.descending else "<"
        marks = ", ".join("?" * len(key))
        row = conn.execute(
            f"SELECT id FROM images WHERE ({sql}) AND ({columns}) {after} ({marks}) ORDER BY {order} LIMIT 1",
            [*params, *key],
        ).fetchone()
        if row is not None:
            return str(row[0])
    row = conn.execute(f"SELECT id FROM images WHERE {sql} ORDER BY {order} LIMIT 1", params).fetchone()
    return None if row is None else str(row[0])


def _rows_next_to(
    conn: sqlite3.Connection, where: Where, sort: Sort, image_id: str, limit: int, forward: bool
) -> list[CatalogueRow] | None:
    """The `limit` rows after (or before) `image_id` in view order, by its sort key: an
    index seek, where OFFSET would walk every row above (50 ms at the middle of a million).
    None when the row is gone (the caller reads by offset)."""
    key = _key_of(conn, sort, image_id)
    if key is None:
        return None
    order, columns = _order(sort, reverse=not forward)
    after = ">" if forward != sort.descending else "<"
    marks = ", ".join("?" * len(key))
    sql, params = where.scan
    index = _SORT_INDEX.get(sort.column)
    source = f"images INDEXED BY {index}" if index else "images"
    rows = conn.execute(
        f"SELECT {ROW_COLUMNS} FROM {source} WHERE ({sql}) AND ({columns}) {after} ({marks})"
        f" ORDER BY {order} LIMIT ?",
        [*params, *key, limit],
    ).fetchall()
    result = [row_of(r) for r in rows]
    return result if forward else result[::-1]


class CatalogueWindow:
    """A list over the catalogue: `set_view(filter, sort)` then `rows(offset, limit)`.

    Offsets shift when rows arrive or go; after a change (a walk's page, an action) the TUI
    calls `set_view()` again to recount, keeps its cursor by id and asks `position_of(id)`. Searching for `n` / `N`
    is separate from the filter: `next_match(after_id, search)` steps through the rows of the
    current view that also match `search`.
    """

    def __init__(self, store: CatalogueStore) -> None:
        self._store = store
        self._filter = Query()
        self._sort = Sort()
        # Not counted yet: rows can be read before the first set_view (a seeded first screen
        # and `G` before its reload), and count() counts.
        self._total: int | None = None

    @property
    def sort(self) -> Sort:
        return self._sort

    @property
    def total(self) -> int | None:
        """Rows in the view as of the last exact count; None after `set_view(exact=False)`
        until `count()` runs (rows from the top can be read meanwhile)."""
        return self._total

    def _where(self, extra: Query | None = None) -> Where:
        query = Query(self._filter.clauses + (extra.clauses if extra is not None else ()))
        return Where(
            compile_query(query, fts=self._store.fts),
            compile_query(query, fts=False),
            not query.empty,
            fts_match(query) if self._store.fts else None,
        )

    async def set_view(
        self, query: Query | None = None, sort: Sort | None = None, *, exact: bool = True
    ) -> int | None:
        """Filter and sort the list; returns its length (None with `exact=False`: a keystroke
        shows `rows(0, screen)` at once, then asks `count()`)."""
        if query is not None:
            self._filter = query
        if sort is not None:
            self._sort = sort
        self._total = None  # recounted: rows may have come or gone since
        if not exact:
            return None
        return await self.count()

    async def count(self, search: Query | None = None, *, cap: int | None = None, stale: Stale = None) -> int:
        """Rows in the view (also matching `search` when given: the live match count). With
        `cap`, counting stops there ("10,000+"): a broad word answers in milliseconds.
        Superseded when `stale()` turns true on the way."""
        if search is None and self._total is not None:
            return self._total if cap is None else min(self._total, cap)
        found = await self._store.run(_count, self._where(search), cap, stale)
        if search is None and cap is None:
            self._total = found
        return found

    async def count_unless(self, stale: Callable[[], bool]) -> int | None:
        """The view's exact count, or None when `stale()` turned true on the way."""
        found = await self._store.run(_count_unless, self._where(), stale)
        if found is not None and not stale():
            self._total = found
        return found

    async def rows(self, offset: int, limit: int, *, stale: Stale = None) -> list[CatalogueRow]:
        """Rows of the view from `offset`; Superseded when `stale()` turns true on the way."""
        total = self._total
        if limit <= 0 or offset < 0 or (total is not None and offset >= total):
            return []
        if total is not None:
            limit = min(limit, total - offset)
        rows = await self._store.run(_rows, self._where(), self._sort, offset, limit, total, stale)
        if total is None and offset == 0 and len(rows) < limit:
            self._total = len(rows)  # a short first screen is the whole view: no count needed
        return rows

    async def rows_next_to(
        self, image_id: str, limit: int, *, forward: bool = True
    ) -> list[CatalogueRow] | None:
        """Rows right after (or before) a row of the unfiltered view, by an index seek; None
        when the view is filtered (a seek may then scan) or the row is gone."""
        where = self._where()
        if where.filtered:
            return None
        return await self._store.run(_rows_next_to, where, self._sort, image_id, limit, forward)

    async def knows_formats(self) -> bool | None:
        """Whether the walks record file formats (a local library: True; an account: False);
        None before the first walk began."""
        found = await self._store.run(get_state, "file_facts")
        return None if found is None else found == "1"

    async def position_of(self, image_id: str) -> int | None:
        """The row's offset in the view, or None when it is not in it."""
        return await self._store.run(_position, self._where(), self._sort, image_id)

    async def next_match(self, search: Query, after_id: str | None) -> str | None:
        """`n`: the next row of the view after `after_id` also matching `search`, wrapping."""
        return await self._store.run(_neighbour, self._where(search), self._sort, after_id, True)

    async def prev_match(self, search: Query, before_id: str | None) -> str | None:
        """`N`: the previous one, wrapping."""
        return await self._store.run(_neighbour, self._where(search), self._sort, before_id, False)


@dataclass(frozen=True, slots=True)
class FirstScreen:
    """The top of the unfiltered, newest-first view, read before the TUI's event loop runs."""

    rows: list[CatalogueRow]
    total: int  # capped: `exact` is False when the view holds at least this many
    exact: bool


def first_screen(conn: sqlite3.Connection, limit: int, cap: int) -> FirstScreen:
    """The unfiltered newest-first view's first `limit` rows and its count up to `cap`."""
    where = Where(compile_query(Query(), fts=False), compile_query(Query(), fts=False), False)
    rows = _rows(conn, where, Sort(), 0, limit, None)
    if len(rows) < limit:
        return FirstScreen(rows, len(rows), True)
    total = _count(conn, where, cap)
    return FirstScreen(rows, total, total < cap)


def read_first_screen(path: Path, limit: int, cap: int) -> FirstScreen | None:
    """The catalogue's first `limit` rows and its count up to `cap`, read synchronously and
    read-only (no schema change, no thread: for a launcher before its event loop starts).
    None when there is no usable catalogue there; never raises for a missing, locked,
    foreign or corrupt file."""
    try:
        if not path.is_file():  # raises for a folder it may not search (EACCES)
            return None
        conn = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, timeout=0.05)
    except (OSError, sqlite3.Error):
        return None
    try:
        if get_state(conn, "schema") != str(SCHEMA_VERSION):
            return None
        return first_screen(conn, limit, cap)
    except (sqlite3.Error, ValueError, TypeError):
        return None  # not a catalogue (or one from elsewhere): the TUI reads it as usual
    finally:
        conn.close()
