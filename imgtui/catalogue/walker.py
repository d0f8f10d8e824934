"""Fill the catalogue from any `Images` by listing it, newest first, page by page.

Each page and the cursor after it are saved in one transaction, so a walk stopped anywhere
(quit, network, a failed page) resumes at the next page: no page twice, none skipped. A full
walk stamps every row with a new generation; when it completes, rows an older generation left
behind were deleted behind our back. `refresh()` on a complete catalogue reads only the newest
pages, down to the newest upload a finished walk or refresh saw (`confirmed_ms`): not merely
to the first known id, since a row the UI noted (an upload) or a refresh cut short sits above
rows nobody has listed yet.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from imgtui.service.errors import ErrorCode, ImagesError
from imgtui.service.images import Images
from imgtui.service.rules import MAX_LIST_LIMIT

if TYPE_CHECKING:  # pydantic models: annotations only, not on the launch path
    from imgtui.service.models import FileInfo, ImageList, ImageMetadata

from . import store
from .store import CatalogueStore

# Cloudflare's list v2 allows up to 10,000 a page; a smaller page shows progress sooner.
DEFAULT_PAGE = 1_000
# The first page of a walk from the top (and of a refresh) is small: a new catalogue shows
# its first screen sooner, and a refresh usually meets known ids within it.
FIRST_PAGE = 100


@dataclass(frozen=True, slots=True)
class WalkProgress:
    done: int  # rows catalogued in this walk so far
    total: int | None  # the backend's count, when known
    complete: bool  # the walk reached the end of the list


def _begin(conn: sqlite3.Connection, restart: bool = False) -> tuple[int, str | None, int]:
    """The walk in progress (its generation and cursor) or a new one (always with `restart`);
    rows it has done."""
    generation = int(store.get_state(conn, "generation") or "0")
    if store.get_state(conn, "walking") == "1" and not restart:
        cursor = store.get_state(conn, "cursor")
        done = int(store.get_state(conn, "walk_done") or "0")
        return generation, cursor, done
    generation += 1
    store.set_state(conn, "generation", str(generation))
    store.set_state(conn, "walking", "1")
    store.set_state(conn, "cursor", None)
    store.set_state(conn, "walk_done", "0")
    return generation, None, 0


UPLOADED = 2  # a record's upload time (ms), see store.record


def _save_page(
    conn: sqlite3.Connection, records: list[tuple[Any, ...]], generation: int, cursor: str | None, done: int
) -> None:
    # A walk lists newest first: the n-th row listed ranks -n (later uploads rank above 0).
    start = done - len(records)
    if start == 0 and records:  # the newest upload this walk lists: confirmed when it ends
        store.set_state(conn, "walk_top_ms", str(records[0][UPLOADED]))
    store.upsert(conn, records, generation, [-(start + i) for i in range(len(records))])
    store.set_state(conn, "cursor", cursor)
    store.set_state(conn, "walk_done", str(done))


def _finish(conn: sqlite3.Connection, generation: int, now: float) -> int:
    """End a full walk: drop what it did not see; returns how many were dropped."""
    dropped = conn.execute("DELETE FROM images WHERE generation < ?", (generation,)).rowcount
    store.set_state(conn, "walking", None)
    store.set_state(conn, "cursor", None)
    store.set_state(conn, "complete", "1")
    store.set_state(conn, "complete_at", f"{now:.3f}")
    store.set_state(conn, "confirmed_ms", store.get_state(conn, "walk_top_ms") or "0")
    return int(dropped)


def _refresh_page(
    conn: sqlite3.Connection, records: list[tuple[Any, ...]], generation: int, confirmed_ms: int
) -> bool:
    """Save a page of the newest images; True when it reached uploads a finished walk or
    refresh already listed: older than `confirmed_ms` (everything below is catalogued), or
    a known row of that very millisecond (a bulk import shares one: without this, a refresh
    of a library uploaded in one ms read all of it)."""
    at_mark = [fields[0] for fields in records if fields[UPLOADED] == confirmed_ms]
    reached = any(fields[UPLOADED] < confirmed_ms for fields in records) or bool(
        at_mark and store.known_ids(conn, at_mark)
    )
    # Newest first, above every row so far (a known row keeps its rank: upsert leaves it).
    store.upsert(conn, records, generation, reversed(store.take_ranks(conn, len(records))))
    return reached


def _confirm(conn: sqlite3.Connection, newest_ms: int) -> None:
    """A refresh reached the confirmed part: everything down from `newest_ms` is listed."""
    old = int(store.get_state(conn, "confirmed_ms") or "0")
    store.set_state(conn, "confirmed_ms", str(max(old, newest_ms)))


class CatalogueWalker:
    """Catalogues one `Images` into one `CatalogueStore`.

    `count` gives the total for progress when the backend can say (a local library's count,
    Cloudflare's stats); `file_info=True` also records format, size and dimensions, one call per
    image: for a local library only (over REST the API has no such field).
    """

    def __init__(
        self,
        images: Images,
        catalogue: CatalogueStore,
        *,
        page_size: int = DEFAULT_PAGE,
        first_page: int = FIRST_PAGE,
        count: Callable[[], Awaitable[int]] | None = None,
        file_info: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._images = images
        self._store = catalogue
        self._page_size = max(1, min(page_size, MAX_LIST_LIMIT))
        self._first_page = max(1, min(first_page, self._page_size))
        self._count = count
        self._file_info = file_info
        self._clock = clock
        self.dropped = 0  # rows the last full walk found deleted

    async def _records(self, page: list[ImageMetadata]) -> list[tuple[Any, ...]]:
        if not self._file_info:
            return [store.record(image) for image in page]
        records = []
        for image in page:
            found = await self._images.hosted.image(image.id).file_info()
            info: FileInfo | None = None if found is None else found[1]
            records.append(store.record(image, info))
        return records

    async def _total(self) -> int | None:
        return None if self._count is None else await self._count()

    async def is_complete(self) -> bool:
        return await self._store.run(lambda conn: store.get_state(conn, "complete") == "1")

    async def complete_at(self) -> float | None:
        """When the catalogue last matched the whole backend (epoch seconds), for "as of"."""
        value = await self._store.run(lambda conn: store.get_state(conn, "complete_at"))
        return None if value is None else float(value)

    async def walk(self, *, restart: bool = False) -> AsyncIterator[WalkProgress]:
        """A full walk (or the rest of an interrupted one, unless `restart`), yielding progress
        after each page. A failed page raises the backend's ImagesError; calling `walk()` again
        resumes. A saved cursor the backend refuses (5400: a library recreated at the same
        path, an expired token) starts the walk again from the top instead of failing for good."""
        generation, cursor, done = await self._store.transaction(_begin, restart)
        await self._store.transaction(store.set_state, "file_facts", "1" if self._file_info else "0")
        total = await self._total()
        yield WalkProgress(done, total, False)
        # The next page is fetched while this one is written: the backend's thread (or the
        # network) and the catalogue's thread overlap. Only written pages move the cursor.
        fetching = asyncio.ensure_future(self._page(cursor))
        resumed = cursor is not None
        try:
            while True:
                try:
                    page = await fetching
                except ImagesError as error:
                    if not resumed or error.code != ErrorCode.BAD_REQUEST:
                        raise
                    generation, cursor, done = await self._store.transaction(_begin, True)
                    resumed = False
                    fetching = asyncio.ensure_future(self._page(None))
                    yield WalkProgress(done, total, False)
                    continue
                resumed = False
                records = await self._records(page.images)
                cursor = None if page.list_complete else page.cursor
                if cursor is not None:
                    fetching = asyncio.ensure_future(self._page(cursor))
                done += len(records)
                await self._store.transaction(_save_page, records, generation, cursor, done)
                if cursor is None:
                    self.dropped = await self._store.transaction(_finish, generation, self._clock())
                    yield WalkProgress(done, total, True)
                    return
                yield WalkProgress(done, total, False)
        finally:
            if not fetching.done():
                fetching.cancel()
            elif not fetching.cancelled():
                fetching.exception()  # a prefetched page's failure, retrieved: the next walk redoes it

    async def _page(self, cursor: str | None) -> ImageList:
        limit = self._first_page if cursor is None else self._page_size
        return await self._images.hosted.list(limit=limit, cursor=cursor, sort_order="desc")

    async def refresh(self) -> AsyncIterator[WalkProgress]:
        """New images since the last walk or refresh, newest first down to the uploads it
        confirmed; a full walk when the catalogue was never completed (edits and deletes of
        old images need a full walk). A refresh cut short confirms nothing: the next one
        reads from the top again (pages twice, never a gap)."""

        def where_from(conn: sqlite3.Connection) -> tuple[bool, int, int | None]:
            walking = store.get_state(conn, "walking") == "1"
            confirmed = store.get_state(conn, "confirmed_ms")
            generation = int(store.get_state(conn, "generation") or "0")
            return walking, generation, None if confirmed is None else int(confirmed)

        walking, generation, confirmed_ms = await self._store.run(where_from)
        if walking or confirmed_ms is None or not await self.is_complete():
            async for progress in self.walk():
                yield progress
            return
        cursor: str | None = None
        done = 0
        newest_ms: int | None = None
        while True:
            page = await self._page(cursor)
            records = await self._records(page.images)
            if newest_ms is None and records:
                newest_ms = records[0][UPLOADED]
            done += len(records)
            reached = await self._store.transaction(_refresh_page, records, generation, confirmed_ms)
            if reached or page.list_complete or page.cursor is None:
                if newest_ms is not None:
                    await self._store.transaction(_confirm, newest_ms)
                yield WalkProgress(done, None, True)
                return
            cursor = page.cursor
            yield WalkProgress(done, None, False)

    async def note_changed(self, image: ImageMetadata, info: FileInfo | None = None) -> None:
        """An image the UI uploaded or edited: the row now, without a walk."""
        fields = store.record(image, info)

        def save(conn: sqlite3.Connection) -> None:
            store.upsert(conn, [fields], int(store.get_state(conn, "generation") or "0"))

        await self._store.transaction(save)

    async def note_deleted(self, image_id: str) -> None:
        """An image the UI deleted (or an action found gone)."""
        await self._store.transaction(store.delete_ids, [image_id])
