"""Walks `images.hosted.list` one page at a time for one query (no Textual here).

The launcher may read the first page before the UI exists (`prefetch_first_page`); the
first pager of that query then starts from it instead of asking again.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Literal

from imgtui.service import ImageList, Images, ImagesError

FIRST_PAGE = 100  # small: the first screen paints sooner
NEXT_PAGES = 500  # larger: fewer round trips once the user is scrolling
# The query the main screen opens with (newest first, every creator).
START_SORT_ORDER: Literal["asc", "desc"] = "desc"
# How long the launcher may wait for a prefetched page before giving up on it (a local
# library answers in a few ms; a busy or slow one is left to the UI's own loading state).
PREFETCH_TIMEOUT = 0.15  # seconds

_Query = tuple[str, str | None, int]  # sort order, creator, limit
_prefetched: weakref.WeakKeyDictionary[Images, tuple[_Query, ImageList]] = weakref.WeakKeyDictionary()


def prefetch_first_page(
    images: Images,
    *,
    sort_order: Literal["asc", "desc"] = START_SORT_ORDER,
    creator: str | None = None,
    limit: int = FIRST_PAGE,
    timeout: float = PREFETCH_TIMEOUT,
    raise_errors: bool = False,
) -> bool:
    """Read the first page now, for the first `ImagePager` of the same query to use.

    For the launcher, BEFORE `App.run()`: it runs its own short event loop, so it must not be
    called from a running one, and only for a backend whose client is not tied to an event
    loop (the local library; an httpx client is). Inside a running app the list call waits
    behind mounting and painting (measured: 55 ms for a 3 ms read); here the main thread
    waits idle, so the read takes its real time and the first frame can already show rows.
    Any failure or timeout is silent (returns False): the pager then asks as usual and
    reports the error in the UI. With `raise_errors`, an ImagesError or OSError (a library
    that cannot be opened) is raised instead, for the launcher to report before any UI.
    """

    async def read() -> ImageList:
        return await asyncio.wait_for(
            images.hosted.list(limit=limit, sort_order=sort_order, creator=creator), timeout
        )

    try:
        page = asyncio.run(read())
    except (ImagesError, OSError) as error:
        if raise_errors and not isinstance(error, TimeoutError):
            raise
        return False
    except Exception:  # a bug: the UI's own call reports it
        return False
    _prefetched[images] = ((sort_order, creator, limit), page)
    return True


def _take_prefetched(images: Images, query: _Query) -> ImageList | None:
    """The prefetched first page if it answers `query`. Taken once: a later pager (a
    refresh, another query) never sees an old page."""
    entry = _prefetched.pop(images, None)
    if entry is None or entry[0] != query:
        return None
    return entry[1]


class ImagePager:
    """The paging state of one (sort order, creator) query. A new query gets a new pager,
    so a late page of an old query can be recognised and dropped."""

    def __init__(
        self,
        images: Images,
        *,
        sort_order: Literal["asc", "desc"],
        creator: str | None,
        first_page: int = FIRST_PAGE,
        page_size: int = NEXT_PAGES,
    ) -> None:
        self.images = images
        self.sort_order = sort_order
        self.creator = creator
        self.first_page = first_page
        self.page_size = page_size
        self.cursor: str | None = None
        self.complete = False
        self.pages = 0

    async def next_page(self) -> ImageList:
        """The next page; raises ImagesError (the pager stays where it was, so it can retry)."""
        limit = self.first_page if self.pages == 0 else self.page_size
        page = None
        if self.pages == 0:
            page = _take_prefetched(self.images, (self.sort_order, self.creator, limit))
        if page is None:
            page = await self.images.hosted.list(
                limit=limit, cursor=self.cursor, sort_order=self.sort_order, creator=self.creator
            )
        self.pages += 1
        self.cursor = page.cursor
        self.complete = page.list_complete or not page.cursor
        return page
