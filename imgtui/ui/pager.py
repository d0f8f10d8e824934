"""Walks `images.hosted.list` one page at a time for one query (no Textual here)."""

from __future__ import annotations

from typing import Literal

from imgtui.service import ImageList, Images

FIRST_PAGE = 100  # small: the first screen paints sooner
NEXT_PAGES = 500  # larger: fewer round trips once the user is scrolling


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
        page = await self.images.hosted.list(
            limit=limit, cursor=self.cursor, sort_order=self.sort_order, creator=self.creator
        )
        self.pages += 1
        self.cursor = page.cursor
        self.complete = page.list_complete or not page.cursor
        return page
