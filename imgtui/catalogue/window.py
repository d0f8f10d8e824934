"""The TUI's view of the catalogue: a filtered, sorted list addressed by offset. Only the rows
asked for are read (compact tuples), so memory follows the screen, not the library."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Literal

from .query import Query, compile_query
from .store import ROW_COLUMNS, CatalogueRow, CatalogueStore

SortColumn = Literal["uploaded", "filename", "creator", "size", "dimensions", "id"]
_SORT_SQL: dict[str, str] = {
    "uploaded": "uploaded",
    "filename": "filename",
    "creator": "creator",
    "size": "size",
    "dimensions": "pixels",
    "id": "id",
}


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
    return f"{column} {direction}, id {direction}", f"{column}, id"


def _count(conn: sqlite3.Connection, where: str, params: list[object]) -> int:
    return int(conn.execute(f"SELECT count(*) FROM images WHERE {where}", params).fetchone()[0])


def _rows(
    conn: sqlite3.Connection,
    where: str,
    params: list[object],
    sort: Sort,
    offset: int,
    limit: int,
    total: int,
) -> list[CatalogueRow]:
    # OFFSET walks the index from its start; past the middle, walk it from the other end so
    # `G` (the last screen) costs as little as the first.
    reverse = offset > total // 2
    if reverse:
        offset = max(total - offset - limit, 0)  # the caller keeps offset + limit <= total
    order, _ = _order(sort, reverse)
    rows = conn.execute(
        f"SELECT {ROW_COLUMNS} FROM images WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
        [*params, limit, offset],
    ).fetchall()
    result = [CatalogueRow(r[0], r[1], r[2], r[3], bool(r[4]), bool(r[5]), *r[6:]) for r in rows]
    return result[::-1] if reverse else result


def _key_of(conn: sqlite3.Connection, sort: Sort, image_id: str) -> tuple[object, ...] | None:
    _, key = _order(sort)
    row = conn.execute(f"SELECT {key} FROM images WHERE id = ?", (image_id,)).fetchone()
    return None if row is None else tuple(row)


def _position(
    conn: sqlite3.Connection, where: str, params: list[object], sort: Sort, image_id: str
) -> int | None:
    key = _key_of(conn, sort, image_id)
    if key is None:
        return None
    _, columns = _order(sort)
    before = "<" if not sort.descending else ">"
    marks = ", ".join("?" * len(key))
    found = conn.execute(
        f"SELECT count(*) FROM images WHERE ({where}) AND ({columns}) {before} ({marks})", [*params, *key]
    ).fetchone()[0]
    return int(found)


def _neighbour(
    conn: sqlite3.Connection,
    where: str,
    params: list[object],
    sort: Sort,
    image_id: str | None,
    forward: bool,
) -> str | None:
    """The id of the next (or previous) row matching `where` after `image_id` in sort order,
    wrapping around the ends; None when nothing matches."""
    order, columns = _order(sort, reverse=not forward)
    key = None if image_id is None else _key_of(conn, sort, image_id)
    if key is not None:
        after = ">" if forward != sort.descending else "<"
        marks = ", ".join("?" * len(key))
        row = conn.execute(
            f"SELECT id FROM images WHERE ({where}) AND ({columns}) {after} ({marks}) ORDER BY {order} LIMIT 1",
            [*params, *key],
        ).fetchone()
        if row is not None:
            return str(row[0])
    row = conn.execute(f"SELECT id FROM images WHERE {where} ORDER BY {order} LIMIT 1", params).fetchone()
    return None if row is None else str(row[0])


class CatalogueWindow:
    """A list over the catalogue: `set_view(filter, sort)` then `rows(offset, limit)`.

    Offsets shift when rows arrive or go; the TUI keeps its cursor by id and asks
    `position_of(id)` after a change (`version` tells it one happened). Searching for `n` / `N`
    is separate from the filter: `next_match(after_id, search)` steps through the rows of the
    current view that also match `search`.
    """

    def __init__(self, store: CatalogueStore) -> None:
        self._store = store
        self._filter = Query()
        self._sort = Sort()
        self._total = 0

    @property
    def sort(self) -> Sort:
        return self._sort

    @property
    def total(self) -> int:
        """Rows in the view as of the last `count` / `set_view`."""
        return self._total

    def _where(self, extra: Query | None = None) -> tuple[str, list[object]]:
        clauses = self._filter.clauses + (extra.clauses if extra is not None else ())
        return compile_query(Query(clauses), fts=self._store.fts)

    async def set_view(self, query: Query | None = None, sort: Sort | None = None) -> int:
        """Filter and sort the list; returns its length."""
        if query is not None:
            self._filter = query
        if sort is not None:
            self._sort = sort
        return await self.count()

    async def count(self, search: Query | None = None) -> int:
        """Rows in the view (also matching `search` when given: the live match count)."""
        where, params = self._where(search)
        found = await self._store.run(_count, where, params)
        if search is None:
            self._total = found
        return found

    async def rows(self, offset: int, limit: int) -> list[CatalogueRow]:
        if limit <= 0 or offset < 0:
            return []
        where, params = self._where()
        total = self._total
        if offset >= total:
            return []
        limit = min(limit, total - offset)
        return await self._store.run(_rows, where, params, self._sort, offset, limit, total)

    async def position_of(self, image_id: str) -> int | None:
        """The row's offset in the view, or None when it is not in it."""
        where, params = self._where()
        inside = await self._store.run(_count, f"({where}) AND id = ?", [*params, image_id])
        if not inside:
            return None
        return await self._store.run(_position, where, params, self._sort, image_id)

    async def next_match(self, search: Query, after_id: str | None) -> str | None:
        where, params = self._where(search)
        return await self._store.run(_neighbour, where, params, self._sort, after_id, True)

    async def prev_match(self, search: Query, before_id: str | None) -> str | None:
        where, params = self._where(search)
        return await self._store.run(_neighbour, where, params, self._sort, before_id, False)
