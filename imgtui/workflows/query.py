"""`--query Q`: which images a search names, as a small parsed model.

For now a query is words: each must appear (case-insensitively, as a substring) in the image's
id, filename, creator, or a metadata key or value; `-word` must not. The parsed `Query` is a
tuple of terms so a richer syntax (fields, dates, sizes) can add term kinds later.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from imgtui.service import ImageList, ImageMetadata, Images
from imgtui.service.rules import SortOrder


@dataclass(frozen=True, slots=True)
class WordTerm:
    """One word of a query: the image's text must (or, negated, must not) contain it."""

    word: str  # casefolded
    negated: bool = False

    def matches(self, haystack: tuple[str, ...]) -> bool:
        found = any(self.word in text for text in haystack)
        return found != self.negated


@dataclass(frozen=True, slots=True)
class Query:
    """All terms must match; the empty query matches every image."""

    terms: tuple[WordTerm, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.terms)

    def matches(self, image: ImageMetadata) -> bool:
        if not self.terms:
            return True
        haystack = searchable_text(image)
        return all(term.matches(haystack) for term in self.terms)


def parse_query(text: str) -> Query:
    """Split `text` on whitespace into terms; a lone `-` is a word, not a negation."""
    terms = []
    for word in text.split():
        if word.startswith("-") and len(word) > 1:
            terms.append(WordTerm(word[1:].casefold(), negated=True))
        else:
            terms.append(WordTerm(word.casefold()))
    return Query(tuple(terms))


def _metadata_texts(value: Any) -> Iterator[str]:
    # Iterative: metadata is capped at 32 levels, but a walk need not rely on it.
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, Mapping):
            for key, child in item.items():
                yield str(key)
                stack.append(child)
        elif isinstance(item, list | tuple):
            stack.extend(item)
        elif item is not None:
            yield str(item).lower() if isinstance(item, bool) else str(item)


def searchable_text(image: ImageMetadata) -> tuple[str, ...]:
    """The casefolded strings a query word is looked for in."""
    texts = [image.id, image.filename or "", image.creator or ""]
    if image.meta:
        texts.extend(_metadata_texts(image.meta))
    return tuple(text.casefold() for text in texts if text)


async def matching_images(
    images: Images,
    query: Query | None = None,
    *,
    page_size: int = 1000,
    sort_order: SortOrder = "asc",
    creator: str | None = None,
) -> AsyncGenerator[ImageMetadata, None]:
    """Every image of the library `query` matches, page by page: the next page is fetched
    while the caller works through this one, and only one page is held at a time."""

    def fetch(cursor: str | None) -> asyncio.Task[ImageList]:
        return asyncio.ensure_future(
            images.hosted.list(limit=page_size, cursor=cursor, sort_order=sort_order, creator=creator)
        )

    pending = fetch(None)
    try:
        while True:
            page = await pending
            more = bool(page.cursor) and not page.list_complete
            if more:
                pending = fetch(page.cursor)
            for image in page.images:
                if query is None or query.matches(image):
                    yield image
            if not more:
                return
    finally:
        if not pending.done():
            pending.cancel()
            with contextlib.suppress(BaseException):
                await pending
