"""Pages smaller than Cloudflare's minimum `per_page` (10, in the v2 list's schema).

The binding allows any `limit` from 1; the REST API does not. So a small page is cut from a
full one, and its cursor stands for where: the server's token of that full page and the ids
already handed out of it. Re-reading that page and going on after the last of those ids
still there neither repeats an image nor skips one, whatever was deleted meanwhile.

Ids can be 1024 characters, and Cloudflare's tokens are at most 32, so the position stays in
this client (a bounded table) and the cursor is a short random key to it, with a prefix no
Cloudflare token has (theirs are letters and digits). Any other cursor passes through untouched.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from dataclasses import dataclass

from imgtui.service.errors import ErrorCode, ImagesError
from imgtui.service.models import ImageList
from imgtui.service.rules import SortOrder

MIN_PAGE_SIZE = 10
_PREFIX = "imgtui-"
MAX_POSITIONS = 4096  # the oldest small-page cursors are forgotten past this


@dataclass(frozen=True, slots=True)
class PagePosition:
    token: str | None  # the server's cursor of the full page (None: the first page)
    handed_out: frozenset[str]  # ids of that page already returned
    sort_order: SortOrder
    creator: str | None


def invalid_cursor() -> ImagesError:
    return ImagesError(ErrorCode.BAD_REQUEST, "Invalid cursor")


class SmallPages:
    """The positions of this client's small-page cursors."""

    def __init__(self) -> None:
        self._positions: OrderedDict[str, PagePosition] = OrderedDict()

    def owns(self, cursor: str | None) -> bool:
        return cursor is not None and cursor.startswith(_PREFIX)

    def start(self, cursor: str | None, sort_order: SortOrder, creator: str | None) -> PagePosition:
        """Where a page starts: a cursor of ours (checked to belong to this listing), or the
        top of a server's page."""
        if not self.owns(cursor):
            return PagePosition(cursor, frozenset(), sort_order, creator)
        assert cursor is not None
        position = self._positions.get(cursor)
        if position is None or (position.sort_order, position.creator) != (sort_order, creator):
            raise invalid_cursor()
        return position

    def cut(self, page: ImageList, start: PagePosition, limit: int) -> ImageList:
        """`limit` images of the full `page` not yet handed out, and the cursor after them."""
        # After the last image handed out that is still there: in descending order, images
        # uploaded since sort before it and belong to no later page.
        seen = [n for n, image in enumerate(page.images) if image.id in start.handed_out]
        after = page.images[seen[-1] + 1 :] if seen else page.images
        fresh = [image for image in after if image.id not in start.handed_out]
        images = fresh[:limit]
        if len(fresh) <= limit:
            return ImageList(images=images, cursor=page.cursor, list_complete=page.cursor is None)
        handed = start.handed_out | {image.id for image in images}
        key = _PREFIX + secrets.token_urlsafe(18)  # 31 characters, within Cloudflare's 32
        self._positions[key] = PagePosition(start.token, handed, start.sort_order, start.creator)
        while len(self._positions) > MAX_POSITIONS:
            self._positions.popitem(last=False)
        return ImageList(images=images, cursor=key, list_complete=False)
