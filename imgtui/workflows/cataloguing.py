"""What the TUI's list reads from: the catalogue of what is open, kept up to date in the
background (no Textual here).

The catalogue lives in the platform cache directory, keyed by what is open (`Images.cache_key`:
a local library's path, or an account and its API host). Opening it costs a few ms (measured
in benchmarks/bench_tui.py), so the first screen comes from the last catalogue at once; the
walk that brings it up to date runs after, page by page. An account that cannot be reached
shows its last catalogue, read-only, saying since when.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from imgtui.catalogue import CatalogueStore, CatalogueWalker, CatalogueWindow, Query, catalogue_path
from imgtui.catalogue.query import Creator, MetaCompare
from imgtui.catalogue.walker import DEFAULT_PAGE, FIRST_PAGE
from imgtui.catalogue.window import FirstScreen, first_screen
from imgtui.catalogue.window import read_first_screen as _read_first_screen
from imgtui.service import Images, ImagesError
from imgtui.workflows.catalogue_rows import CHUNK, COUNT_CAP

if TYPE_CHECKING:  # pydantic models: annotations only, not on the launch path
    from imgtui.service import ImageMetadata
    from imgtui.service.models import FileInfo

WalkKind = Literal["walk", "refresh"]


def cache_dir() -> Path:
    """`IMGTUI_CACHE_DIR`, else next to a relocated config (`IMGTUI_CONFIG_DIR`: tests and
    portable setups keep everything together), else the platform cache directory."""
    explicit = os.environ.get("IMGTUI_CACHE_DIR")
    if explicit:
        return Path(explicit)
    config = os.environ.get("IMGTUI_CONFIG_DIR")
    if config:
        return Path(config) / "cache"
    import platformdirs

    return Path(platformdirs.user_cache_dir("imgtui"))


# First screens read by the launcher, by catalogue file; each is taken once, by the first
# Cataloguing of that file (the list's first frame), so no later view sees an old screen.
_first_screens: dict[str, FirstScreen] = {}


def read_first_screen(images: Images) -> bool:
    """For the launcher, BEFORE the app's event loop runs (it reads on the calling thread):
    the last catalogue's first screen, so the list's first frame can show rows (inside the
    starting app the same read waits ~100 ms behind mounting). False when there is none
    (first launch, unreadable file): the list then reads as usual."""
    path = catalogue_path(images.cache_key, cache_dir())
    found = _read_first_screen(path, CHUNK, COUNT_CAP)  # the list's own chunk and quick count
    if found is None:
        return False
    _first_screens[str(path)] = found
    return True


@dataclass(frozen=True, slots=True)
class Progress:
    """For the status line: "catalogued 41,000 of 120,000"."""

    done: int
    total: int | None
    complete: bool
    kind: WalkKind


class Cataloguing:
    """One catalogue (store, window, walker) for one `Images`."""

    PAGE = DEFAULT_PAGE  # list pages of the walk (tests make them small)
    FIRST_PAGE = FIRST_PAGE

    def __init__(self, images: Images, path: Path | str | None = None) -> None:
        self.images = images
        self.store = CatalogueStore(
            path if path is not None else catalogue_path(images.cache_key, cache_dir())
        )
        self.window = CatalogueWindow(self.store)
        self.walker: CatalogueWalker | None = None
        self.complete = False
        self.complete_at: float | None = None  # when it last matched the backend (epoch s)
        self.offline_since: float | None = None  # set when a walk could not reach the backend
        self.file_facts = False  # the backend knows size, pixels and format (a local library)
        self._first_screen: FirstScreen | None = None  # read by open(), taken by the list
        self._launcher_screen_taken = False  # the list already shows the launcher's rows

    def take_first_screen(self) -> FirstScreen | None:
        """The launcher's first screen of this catalogue (see `read_first_screen`), else the
        one `open()` read; each once."""
        found = _first_screens.pop(str(self.store.path), None)
        if found is None:
            found, self._first_screen = self._first_screen, None
        else:
            self._launcher_screen_taken = True
        return found

    async def _count(self) -> int:
        try:
            return (await self.images.account.stats()).current
        except ImagesError:
            return -1

    async def _make_walker(self) -> CatalogueWalker:
        # One probe: does this backend know file facts? Then the walk records them (sort by
        # size and dimensions), at half the walk's speed (measured: 4.7k vs 9.9k images/s).
        page = await self.images.hosted.list(limit=1, sort_order="desc")
        if page.images:
            try:
                found = await self.images.hosted.image(page.images[0].id).file_info()
            except ImagesError:
                found = None  # no facts then: the walk itself must not fail on them
            self.file_facts = found is not None and found[1] is not None
        total: dict[str, int] = {}

        async def count() -> int:
            if "n" not in total:
                total["n"] = await self._count()
            return total["n"]

        return CatalogueWalker(
            self.images,
            self.store,
            page_size=self.PAGE,
            first_page=self.FIRST_PAGE,
            count=count,
            file_info=self.file_facts,
        )

    async def open(self) -> None:
        """Read the catalogue's state (no backend call): is it complete, since when."""
        probe = CatalogueWalker(self.images, self.store)
        self.complete = await probe.is_complete()
        self.complete_at = await probe.complete_at()
        if not self._launcher_screen_taken and str(self.store.path) not in _first_screens:
            # For the list's next reload to show at once (ImageTable.reload): rows on screen
            # before the walk starts, so a walk that fails at once finds them (offline). Not
            # when the list already shows the launcher's screen: that would read it twice.
            self._first_screen = await self.store.run(first_screen, CHUNK, COUNT_CAP)

    async def update(self, *, full: bool = False) -> AsyncIterator[Progress]:
        """Bring the catalogue up to date: the rest of an interrupted walk, a full walk when
        asked (`r`: notices edits and deletes made elsewhere), else only the newest images.
        An ImagesError (network, server) marks the catalogue offline and is raised."""
        self._first_screen = None  # the catalogue changes from here on
        try:
            if self.walker is None:
                self.walker = await self._make_walker()
            walker = self.walker
            kind: WalkKind = "walk" if full or not self.complete else "refresh"
            # `r` walks from the top: it also gets past a walk stuck on anything.
            steps = walker.walk(restart=full) if kind == "walk" else walker.refresh()
            async for step in steps:
                total = None if step.total is None or step.total < 0 else step.total
                if step.complete:
                    self.complete = True
                    self.complete_at = time.time()
                self.offline_since = None
                yield Progress(step.done, total, step.complete, kind)
        except ImagesError:
            if self.offline_since is None:
                self.offline_since = time.time()
            raise

    async def note_changed(
        self, images: list[ImageMetadata], infos: Mapping[str, FileInfo | None] | None = None
    ) -> None:
        self._first_screen = None
        walker = CatalogueWalker(self.images, self.store)
        for image in images:
            info = None if infos is None else infos.get(image.id)
            if info is None and self.file_facts:  # a local library: the size column too
                try:
                    found = await self.images.hosted.image(image.id).file_info()
                except ImagesError:
                    found = None
                info = None if found is None else found[1]
            await walker.note_changed(image, info)

    async def note_deleted(self, ids: list[str]) -> None:
        self._first_screen = None
        walker = CatalogueWalker(self.images, self.store)
        for image_id in ids:
            await walker.note_deleted(image_id)

    async def from_server(self, query: Query, limit: int = 1_000) -> tuple[int, str]:
        """While the catalogue is incomplete: run the clauses the API can (creator, metadata
        equality) on the server and add what it finds to the catalogue, where the
        whole query then runs. Returns (images found, the part that ran on the server)."""
        creator, metadata_filter, shown = server_filter(query)
        if creator is None and not metadata_filter:
            return 0, ""
        page = await self.images.hosted.list(
            limit=limit, sort_order="desc", creator=creator, metadata_filter=metadata_filter or None
        )
        await self.note_changed(page.images)
        return len(page.images), shown

    async def creators(self, limit: int) -> list[str]:
        """Creators in the catalogue, alphabetically (the creator picker's suggestions)."""

        def read(conn: Any) -> list[str]:
            sql = "SELECT DISTINCT creator FROM images WHERE creator != '' ORDER BY creator LIMIT ?"
            return [row[0] for row in conn.execute(sql, (limit,))]

        return await self.store.run(read)

    async def aclose(self) -> None:
        await self.store.aclose()


def server_filter(query: Query) -> tuple[str | None, dict[str, dict[str, Any]], str]:
    """The API's share of a query: a creator, the metadata filter (equality), and how to
    show them. Only clauses whose answer is the same on both sides go to the server."""
    creator: str | None = None
    conditions: dict[str, dict[str, Any]] = {}
    shown: list[str] = []
    for clause in query.server_side():
        term = clause.term
        if isinstance(term, Creator) and creator is None:
            creator = term.name
            shown.append(f"creator:{term.name}")
        elif isinstance(term, MetaCompare) and len(conditions) < 5:
            path = ".".join(term.path)
            conditions[path] = {"eq": term.value}
            shown.append(f"meta.{path}={term.value}")
        # Not `meta.KEY:in(...)`: the catalogue also looks inside lists, the API does not.
    return creator, conditions, " ".join(shown)
