"""`imgtui ls --query`: the TUI's search language (imgtui/catalogue/query.py) over a listing.

The same parser and the same SQL as the TUI's search box, so a query means one thing in both:
each page the backend lists goes through a small in-memory catalogue, which keeps the page's
matches in listing order. Clauses the API can evaluate (creator, metadata equality and `in`)
are also sent with the list request, so fewer pages come back.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncGenerator

from imgtui.catalogue import CatalogueStore, Query, QueryError, compile_query, parse_query
from imgtui.catalogue.store import record, upsert
from imgtui.service import ErrorCode, ImageMetadata, Images, ImagesError
from imgtui.service.models import FileInfo
from imgtui.service.rules import SortOrder
from imgtui.workflows.catalogue_rows import NO_FORMATS, has_format
from imgtui.workflows.cataloguing import server_filter

__all__ = ["QueryError", "QueryFilter", "matching_images", "parse_query"]


def _keep(
    conn: sqlite3.Connection, records: list[tuple[object, ...]], where: tuple[str, list[object]]
) -> set[str]:
    conn.execute("DELETE FROM images")
    upsert(conn, records, 0)
    sql, params = where
    return {row[0] for row in conn.execute(f"SELECT id FROM images WHERE {sql}", params)}


class QueryFilter:
    """One query, evaluated a page at a time by SQLite on its own thread."""

    def __init__(self, query: Query) -> None:
        self.query = query
        self.store = CatalogueStore(":memory:")
        self.needs_file_info = has_format(query)

    async def keep(
        self, page: list[ImageMetadata], infos: dict[str, FileInfo | None] | None = None
    ) -> list[ImageMetadata]:
        if self.query.empty or not page:
            return page
        await self.store.run(lambda _conn: None)  # opened: `fts` is known
        where = compile_query(self.query, fts=self.store.fts)
        records = [record(image, None if infos is None else infos.get(image.id)) for image in page]
        kept = await self.store.run(_keep, records, where)
        return [image for image in page if image.id in kept]

    async def aclose(self) -> None:
        await self.store.aclose()


async def matching_images(
    images: Images,
    query: Query,
    *,
    page_size: int = 1000,
    sort_order: SortOrder = "asc",
    creator: str | None = None,
) -> AsyncGenerator[ImageMetadata, None]:
    """Every image the query matches, page by page, in listing order."""
    server_creator, metadata_filter, _ = server_filter(query)
    if creator is not None and server_creator is not None and creator != server_creator:
        return  # two different creators: nothing can match
    creator = creator or server_creator
    matcher = QueryFilter(query)
    cursor: str | None = None
    try:
        while True:
            page = await images.hosted.list(
                limit=page_size,
                cursor=cursor,
                sort_order=sort_order,
                creator=creator,
                metadata_filter=metadata_filter or None,
            )
            infos: dict[str, FileInfo | None] | None = None
            if matcher.needs_file_info:
                infos = {}
                for image in page.images:
                    found = await images.hosted.image(image.id).file_info()
                    if found is not None and found[1] is None:  # the backend keeps no file facts
                        raise ImagesError(ErrorCode.BAD_REQUEST, NO_FORMATS)
                    infos[image.id] = None if found is None else found[1]
            for image in await matcher.keep(page.images, infos):
                yield image
            if page.list_complete or not page.cursor:
                return
            cursor = page.cursor
    finally:
        await matcher.aclose()
