"""The catalogue: an on-disk index of a library's listing (store), filled by listing the
backend (walker), searched with a small query language (query), read by offset (window)."""

from .query import MAX_QUERY_CHARS, Query, QueryError, compile_query, parse_query
from .store import CatalogueRow, CatalogueStore, catalogue_path
from .walker import CatalogueWalker, WalkProgress
from .window import CatalogueWindow, Sort

__all__ = [
    "MAX_QUERY_CHARS",
    "CatalogueRow",
    "CatalogueStore",
    "CatalogueWalker",
    "CatalogueWindow",
    "Query",
    "QueryError",
    "Sort",
    "WalkProgress",
    "catalogue_path",
    "compile_query",
    "parse_query",
]
