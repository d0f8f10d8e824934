"""The image list's model over the catalogue: a window of rows around the screen, the cursor,
marks and the search. No Textual here; `ui/widgets/image_table.py` renders it.

Rows are read from `CatalogueWindow` in chunks (on the catalogue's thread, never on the event
loop) and kept in a small LRU, so memory follows the screen, not the library: at a million
images the model holds at most `MAX_CHUNKS * CHUNK` compact tuples. Every change of what the
view holds (a search keystroke, a sort, a walk's page, an upload, a delete) bumps `version`:
a chunk read for an older version is dropped, never shown.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from imgtui.catalogue import (
    CatalogueRow,
    CatalogueWindow,
    Query,
    QueryError,
    Sort,
    parse_query,
)
from imgtui.catalogue.query import Format
from imgtui.catalogue.store import record, to_metadata
from imgtui.catalogue.window import Superseded

if TYPE_CHECKING:  # a pydantic model: annotations only, not on the launch path
    from imgtui.service import ImageMetadata

__all__ = ["CHUNK", "CatalogueRow", "CatalogueRows", "SearchState", "Sort", "parse_search", "to_metadata"]

CHUNK = 64  # rows per read: about two screens
MAX_CHUNKS = 48  # ~3,000 rows cached (~1 MB of tuples)
COUNT_CAP = 10_000  # a keystroke counts this far first ("10,000+"), then exactly in the background
MARK_ALL_CAP = 10_000  # `*` marks at most this many rows (each marked row is kept in memory)


@dataclass(frozen=True, slots=True)
class SearchState:
    """The search box as the model understood it."""

    text: str = ""
    query: Query = field(default_factory=Query)
    error: str = ""  # the inline message for a clause that makes no sense
    error_at: int = -1


# Cloudflare's list and details have no format field, so over an account `format:` would match
# nothing and `-format:` everything, without a word (the TUI's search and `imgtui ls`).
# https://developers.cloudflare.com/api/resources/images/subresources/v1/methods/get/
NO_FORMATS = "format: needs a local library (Cloudflare's API does not say an image's format)"


def has_format(query: Query) -> bool:
    """Whether the query asks for a file format (which only a local library records)."""
    return any(isinstance(clause.term, Format) for clause in query.clauses)


def row_is_stale(row: CatalogueRow, image: ImageMetadata) -> bool:
    """Whether the backend's record of an image differs from its row in what the list shows
    or a search reads (an edit made elsewhere, met by the details panel)."""
    fields = record(image)
    shown = (fields[1], fields[2], fields[3], bool(fields[4]), bool(fields[5]), fields[10])
    return shown != (
        row.filename,
        row.uploaded,
        row.creator,
        bool(row.signed),
        bool(row.draft),
        row.meta_json,
    )


def parse_search(text: str) -> SearchState:
    """The box's text as a query, or the message that says what is wrong (never raises)."""
    try:
        return SearchState(text, parse_query(text))
    except QueryError as error:
        return SearchState(text, Query(), error.message, error.position)


class CatalogueRows:
    """The list of one catalogue view: `total` rows, read on demand by index."""

    def __init__(self, window: CatalogueWindow | None = None) -> None:
        self.window = window
        self.total = 0
        self.total_exact = True  # False while only the capped count is known ("10,000+")
        self.version = 0
        self.search = SearchState()
        self._chunks: OrderedDict[int, list[CatalogueRow]] = OrderedDict()
        self._loading: set[int] = set()
        self._cursor = 0
        self._cursor_row: CatalogueRow | None = None  # kept by id across changes
        self._marked: dict[str, CatalogueRow] = {}  # insertion order: the order they were marked

    # ----------------------------------------------------------------- reading

    @property
    def sort(self) -> Sort:
        return self.window.sort if self.window is not None else Sort()

    @property
    def cursor(self) -> int:
        return self._cursor

    @property
    def current_row(self) -> CatalogueRow | None:
        row = self.row(self._cursor)
        return row if row is not None else self._cursor_row

    @property
    def current(self) -> ImageMetadata | None:
        row = self.current_row
        return None if row is None else to_metadata(row)

    @property
    def current_id(self) -> str | None:
        row = self.current_row
        return None if row is None else row.id

    @property
    def cached_rows(self) -> int:
        return sum(len(chunk) for chunk in self._chunks.values())

    @property
    def marked_count(self) -> int:
        return len(self._marked)

    @property
    def marked_images(self) -> list[ImageMetadata]:
        return [to_metadata(row) for row in self._marked.values()]

    def is_marked(self, image_id: str) -> bool:
        return image_id in self._marked

    def cached(self) -> list[CatalogueRow]:
        """The rows read so far (around the screen), in view order."""
        return [row for k in sorted(self._chunks) for row in self._chunks[k]]

    def row(self, index: int) -> CatalogueRow | None:
        """The row at `index` when it is cached (None: not read yet, see `missing`)."""
        if not 0 <= index < self.total:
            return None
        chunk = self._chunks.get(index // CHUNK)
        if chunk is None:
            return None
        self._chunks.move_to_end(index // CHUNK)
        offset = index % CHUNK
        return chunk[offset] if offset < len(chunk) else None

    def missing(self, first: int, last: int) -> list[int]:
        """Chunks covering rows first..last (inclusive) that are neither cached nor on their way."""
        if self.total == 0:
            return []
        first, last = max(first, 0), min(last, self.total - 1)
        wanted = range(first // CHUNK, last // CHUNK + 1)
        return [k for k in wanted if k not in self._chunks and k not in self._loading]

    # ----------------------------------------------------------------- catalogue reads

    async def load(self, chunks: Iterable[int]) -> bool:
        """Read chunks (in order); True when any arrived for the current version."""
        window, version = self.window, self.version
        if window is None:
            return False
        arrived = False
        for k in chunks:
            self._loading.add(k)
            try:
                rows = await self._read(window, k)
            finally:
                self._loading.discard(k)
            if version != self.version:
                return arrived  # the view changed meanwhile: these rows belong to no one now
            self._store(k, rows)
            arrived = True
        return arrived

    async def _read(self, window: CatalogueWindow, k: int) -> list[CatalogueRow]:
        """A chunk next to a cached one is read by seeking from its neighbour's edge row (deep
        in a million rows, OFFSET costs tens of ms); else by offset."""
        limit = min(CHUNK, self.total - k * CHUNK)
        before, after = self._chunks.get(k - 1), self._chunks.get(k + 1)
        seek = None
        if before is not None and len(before) == CHUNK:
            seek = await window.rows_next_to(before[-1].id, limit, forward=True)
        elif after is not None and after:
            seek = await window.rows_next_to(after[0].id, limit, forward=False)
        if seek is not None and len(seek) == limit:
            return seek
        return await window.rows(k * CHUNK, CHUNK)

    def _store(self, k: int, rows: list[CatalogueRow]) -> None:
        self._chunks[k] = rows
        self._chunks.move_to_end(k)
        while len(self._chunks) > MAX_CHUNKS:
            self._chunks.popitem(last=False)
        if k == self._cursor // CHUNK and self._cursor % CHUNK < len(rows):
            self._cursor_row = rows[self._cursor % CHUNK]

    def seed(self, rows: list[CatalogueRow], total: int, exact: bool) -> None:
        """Show a first screen read before the event loop ran (the default view's top rows);
        the reload that follows replaces it, keeping the cursor's image."""
        if self.total or self._chunks or not rows:
            return
        self.total, self.total_exact = max(total, len(rows)), exact
        self._store(0, rows[:CHUNK])
        self._cursor_row = self.row(0)

    async def set_search(self, text: str) -> SearchState:
        """Filter the view by the box's text. A bad clause leaves the view as it was and says
        why. Fast path for a keystroke: the first chunk and a capped count, then `settle()`."""
        state = parse_search(text)
        window = self.window
        if (
            not state.error
            and window is not None
            and has_format(state.query)
            and await window.knows_formats() is False
        ):
            state = SearchState(text, Query(), NO_FORMATS, max(text.casefold().find("format:"), 0))
        if state.error:
            self.search = state
            return state
        self.search = state
        await self.reload(query=state.query, quick=True)
        return state

    async def set_sort(self, sort: Sort) -> None:
        await self.reload(sort=sort)

    async def reload(
        self, *, query: Query | None = None, sort: Sort | None = None, quick: bool = False
    ) -> None:
        """Re-read the view (after a change in the catalogue, or a new query or sort), keeping
        the cursor on the same image when it is still in the view, else at the same index."""
        window = self.window
        if window is None:
            return
        # The old rows stay on screen (and the cursor can move over them) until the new view
        # is read; only then is the cursor's image, as it is by then, looked up in it.
        self.version += 1
        version = self.version

        def stale() -> bool:  # read on the catalogue's thread: an int compare
            return version != self.version

        await window.set_view(query, sort, exact=False)
        try:
            first = await window.rows(0, CHUNK, stale=stale)
            if version != self.version:
                return
            if window.total is not None:  # the first chunk was the whole view
                total, exact = window.total, True
            elif quick:
                total = await window.count(cap=COUNT_CAP, stale=stale)
                exact = total < COUNT_CAP
            else:
                total, exact = await window.count(stale=stale), True
        except Superseded:
            return  # a newer view is on its way: this one's reads were stopped
        if version != self.version:
            return
        keep = self.current_id
        self._chunks.clear()
        self._loading.clear()
        self.total, self.total_exact = total, exact
        self._store(0, first)
        # A search keeps the cursor's image only when it is in the first screen of matches
        # (finding it further down costs a count over every match): else the top match.
        await self._place_cursor(keep, version, search_all=not quick)

    async def settle(self) -> None:
        """After a quick reload: the exact count (may take 100 ms over a million rows)."""
        window, version = self.window, self.version
        if window is None or self.total_exact:
            return
        total = await window.count_unless(lambda: version != self.version)
        if total is not None and version == self.version:
            self.total, self.total_exact = total, True

    async def _place_cursor(self, keep: str | None, version: int, *, search_all: bool = True) -> None:
        assert self.window is not None
        position = None
        if keep is not None:
            first = self._chunks.get(0, [])
            position = next((i for i, row in enumerate(first) if row.id == keep), None)
            if position is None and search_all:
                position = await self.window.position_of(keep)
            elif position is None:
                position = 0
        if version != self.version:
            return
        if position is not None and position < self.total:
            self._cursor = position
        else:
            self._cursor = max(0, min(self._cursor, self.total - 1))
        self._cursor_row = self.row(self._cursor)
        if self._cursor_row is None:
            await self.load([self._cursor // CHUNK])

    async def find(self, forward: bool) -> int | None:
        """`n` / `N`: the next (previous) row of the view matching the search, wrapping."""
        window = self.window
        if window is None or self.total == 0:
            return None
        version = self.version
        current = self.current_id
        found = await (
            window.next_match(self.search.query, current)
            if forward
            else window.prev_match(self.search.query, current)
        )
        if found is None or version != self.version:
            return None
        position = await window.position_of(found)
        return None if position is None or version != self.version else position

    # ----------------------------------------------------------------- cursor and marks

    def move_cursor(self, index: int) -> int:
        """Put the cursor on `index`, clamped; returns where it was."""
        previous = self._cursor
        self._cursor = max(0, min(index, self.total - 1)) if self.total else 0
        row = self.row(self._cursor)
        self._cursor_row = row  # None until its chunk arrives (the table asks for it)
        return previous

    def toggle_mark(self) -> bool:
        row = self.current_row
        if row is None:
            return False
        if self._marked.pop(row.id, None) is None:
            self._marked[row.id] = row
        return True

    async def mark_all(self) -> int:
        """Mark the view's rows, up to MARK_ALL_CAP; returns how many rows the view has beyond
        the cap (0 when every row is marked)."""
        window, version = self.window, self.version
        if window is None:
            return 0
        rows = await window.rows(0, MARK_ALL_CAP)
        if version != self.version:
            return 0
        self._marked.update((row.id, row) for row in rows)
        return max(self.total - len(rows), 0)

    def clear_marks(self) -> bool:
        if not self._marked:
            return False
        self._marked.clear()
        return True

    def forget(self, ids: Iterable[str]) -> None:
        """Rows deleted: their marks go, and they leave the rows read so far at once (the
        catalogue's reload that follows confirms it)."""
        ids = set(ids)
        self._drop_cached(ids)
        for image_id in ids:
            self._marked.pop(image_id, None)
            if self._cursor_row is not None and self._cursor_row.id == image_id:
                self._cursor_row = None  # the next reload keeps the index: the next row

    def _drop_cached(self, gone: set[str]) -> None:
        """Take rows out of the cached chunks contiguous from the top, re-chunked so indexes
        stay right; chunks after a gap are dropped (read again when shown)."""
        prefix: list[CatalogueRow] = []
        k = 0
        while k in self._chunks:
            prefix.extend(self._chunks[k])
            if len(self._chunks[k]) < CHUNK:
                break
            k += 1
        kept = [row for row in prefix if row.id not in gone]
        removed = len(prefix) - len(kept)
        if not removed:
            return
        # The cursor stays on its image, or on the first surviving row after it.
        after = [row for row in prefix[self._cursor :] if row.id not in gone]
        if self._cursor < len(prefix):
            self._cursor = len(kept) - len(after) if after else len(kept) - 1
        else:
            self._cursor -= removed  # every dropped row was above it
        self.version += 1  # reads on their way were for the old indexes
        self._chunks.clear()
        self._loading.clear()
        self.total = max(self.total - removed, 0)
        for start in range(0, len(kept), CHUNK):
            self._chunks[start // CHUNK] = kept[start : start + CHUNK]
        self._cursor = max(0, min(self._cursor, self.total - 1))
        self._cursor_row = self.row(self._cursor)
