"""`--query Q`: which images a search names, as a small parsed model.

For now a query is words: each must appear (case-insensitively, as a substring) in the image's
id, filename, creator, or a metadata key or value; `-word` must not. The parsed `Query` is a
tuple of terms so a richer syntax (fields, dates, sizes) can add term kinds later.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from imgtui.service import ImageMetadata


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
