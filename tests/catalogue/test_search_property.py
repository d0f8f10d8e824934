"""Search and the window over random catalogues equal a brute-force scan in Python."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imgtui.catalogue import CatalogueStore, CatalogueWindow, Sort, parse_query
from imgtui.catalogue import window as window_module
from imgtui.catalogue.query import Creator, Flag, Format, MetaCompare, MetaIn, Query, Uploaded, Word
from imgtui.catalogue.store import record, search_text, upsert
from imgtui.service.models import FileInfo, ImageMetadata

# Letters whose case folding differs between Python and SQLite (long s, micro sign and mu,
# final sigma and sigma, dotted I, Kelvin sign, sharp s) beside plain ones.
TEXT = st.text(alphabet="abcAB-_.xéSs\u017f\u00b5\u03bc\u03c2\u03c3\u0130iK\u212akß", min_size=0, max_size=6)
META_VALUE = st.one_of(
    TEXT, st.sampled_from(["3", "03", "2.0"]), st.integers(-3, 5), st.booleans(), st.lists(TEXT, max_size=3)
)


@dataclass
class Fake:
    image: ImageMetadata
    info: FileInfo | None


@st.composite
def images(draw: st.DrawFn) -> list[Fake]:
    count = draw(st.integers(0, 25))
    fakes = []
    for n in range(count):
        meta = draw(
            st.one_of(
                st.none(),
                st.dictionaries(st.sampled_from(["status", "rating", "tags"]), META_VALUE, max_size=3),
            )
        )
        image = ImageMetadata(
            id=f"id{n}{draw(TEXT)}",
            filename=draw(st.one_of(st.none(), TEXT.map(lambda t: t + ".png"))),
            uploaded=datetime.fromtimestamp(1_767_225_600 + draw(st.integers(-200_000, 200_000)), UTC),
            requireSignedURLs=draw(st.booleans()),
            meta=meta,
            draft=draw(st.booleans()),
            creator=draw(st.one_of(st.none(), st.sampled_from(["alice", "bob"]))),
        )
        info = draw(
            st.one_of(
                st.none(),
                st.builds(
                    lambda s, w: FileInfo("image/png" if w % 2 else "image/jpeg", s, w, w + 1),
                    st.integers(0, 99),
                    st.integers(1, 9),
                ),
            )
        )
        fakes.append(Fake(image, info))
    return fakes


QUERY_PARTS = st.sampled_from(
    [
        "a",
        "ab",
        "abc",
        "b-",
        "x.p",
        ".png",
        "id1",
        "é",
        "ss",
        "\u017fss",
        "SSS",
        "\u00b5\u03bca",
        "\u03c3\u03c2\u03c3",
        "kKk",
        "\u0130\u0130\u0130",
        "ßs",
        "status=",
        "creator:alice",
        "creator:bob",
        "private",
        "public",
        "draft",
        "format:png",
        "format:jpeg",
        "meta.status=a",
        "meta.rating>=2",
        "meta.rating<1",
        "meta.rating=3",
        "meta.rating=03",
        "meta.status=3",
        "meta.rating!=3",
        "meta.tags:in(a,b)",
        "meta.tags:in(1,ab)",
        "meta.status!=true",
        "meta.status=true",
        "uploaded>2026-01-01",
        "uploaded<=2026-01-01",
        "uploaded=2026-01-02",
        "uploaded!=2026-01-01",
    ]
)
QUERIES = st.lists(st.tuples(st.booleans(), QUERY_PARTS), max_size=3).map(
    lambda parts: " ".join(("-" if neg else "") + part for neg, part in parts)
)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _lookup(meta: dict[str, Any] | None, path: tuple[str, ...]) -> tuple[bool, Any]:
    value: Any = meta
    for part in path:
        if not isinstance(value, dict) or part not in value:
            return False, None
        value = value[part]
    return True, value


def matches_term(fake: Fake, term: object) -> bool:
    image = fake.image
    if isinstance(term, Word):
        return term.text in search_text(image.id, image.filename or "", image.creator or "", image.meta)
    if isinstance(term, Creator):
        return image.creator == term.name
    if isinstance(term, Flag):
        return {
            "private": image.require_signed_urls,
            "public": not image.require_signed_urls,
            "draft": image.draft,
        }[term.name]
    if isinstance(term, Format):
        return (
            fake.info is not None
            and {"image/png": "png", "image/jpeg": "jpeg"}[fake.info.content_type] == term.name
        )
    if isinstance(term, Uploaded):
        ms = int(image.uploaded.timestamp() * 1000)
        inside = term.start_ms <= ms < term.end_ms
        return {
            "=": inside,
            "!=": not inside,
            ">": ms >= term.end_ms,
            ">=": ms >= term.start_ms,
            "<": ms < term.start_ms,
            "<=": ms < term.end_ms,
        }[term.op]
    found, value = _lookup(image.meta, term.path)  # type: ignore[attr-defined]
    if isinstance(term, MetaIn):
        values = value if isinstance(value, list) else [value]
        wanted = {*term.items, *(float(i) for i in term.items if _is_float(i))}
        return found and any(not isinstance(v, dict | list) and _in(v, wanted) for v in values)
    assert isinstance(term, MetaCompare)
    if isinstance(term.value, bool):
        hit = found and value is term.value
    elif isinstance(term.value, str):
        hit = found and isinstance(value, str) and value == term.value
    else:
        op = "=" if term.op == "!=" else term.op
        hit = (
            found
            and _number(value)
            and {
                "=": value == term.value,
                ">=": value >= term.value,
                "<=": value <= term.value,
                ">": value > term.value,
                "<": value < term.value,
            }[op]
        )
        if term.text is not None:  # an unquoted number also equals that text
            hit = hit or (found and isinstance(value, str) and value == term.text)
    return not hit if term.op == "!=" else bool(hit)


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _in(value: Any, wanted: set[Any]) -> bool:
    if isinstance(value, bool):
        return False  # in() lists strings and numbers; JSON true is neither
    if value is None:
        return False
    return value in wanted


def matches(fake: Fake, query: Query) -> bool:
    return all(matches_term(fake, c.term) != c.negated for c in query.clauses)


def sort_key(fake: Fake, column: str, index: int = 0) -> tuple[Any, int, str]:
    image, info = fake.image, fake.info
    value = {
        "uploaded": int(image.uploaded.timestamp() * 1000),
        "filename": image.filename or "",
        "creator": image.creator or "",
        "size": -1 if info is None else info.size,
        "dimensions": -1 if info is None else (info.width or 0) * (info.height or 0),
        "id": image.id,
    }[column]
    # Upload-time ties keep the order the rows were stored in (store.py: listed).
    return value, index if column == "uploaded" else 0, image.id


async def check(fakes: list[Fake], text: str, sort: Sort, fts: bool) -> None:
    store = CatalogueStore(":memory:")
    try:
        await store.transaction(upsert, [record(f.image, f.info) for f in fakes], 1)
        store.fts = store.fts and fts
        query = parse_query(text)
        window = CatalogueWindow(store)
        total = await window.set_view(query, sort)
        order = {id(f): n for n, f in enumerate(fakes)}
        expected = sorted(
            (f for f in fakes if matches(f, query)),
            key=lambda f: sort_key(f, sort.column, order[id(f)]),
            reverse=sort.descending,
        )
        expected_ids = [f.image.id for f in expected]
        assert total == len(expected_ids), text
        assert await window.count(cap=3) == min(3, total)
        got = [row.id for row in await window.rows(0, total + 5)]
        assert got == expected_ids, text
        # any window, from either end
        for offset in range(0, total, 3):
            assert [r.id for r in await window.rows(offset, 4)] == expected_ids[offset : offset + 4]
        for index, image_id in enumerate(expected_ids):
            assert await window.position_of(image_id) == index
        # n / N over the unfiltered view
        everything = CatalogueWindow(store)
        await everything.set_view(Query(), sort)
        order = [r.id for r in await everything.rows(0, len(fakes))]
        hits = [i for i in order if i in set(expected_ids)]
        if hits:
            assert await everything.next_match(query, None) == hits[0]
            assert await everything.next_match(query, hits[-1]) == hits[0]  # wraps
            assert await everything.prev_match(query, hits[0]) == hits[-1]
        else:
            assert await everything.next_match(query, order[0] if order else None) is None
    finally:
        await store.aclose()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    images(),
    QUERIES,
    st.sampled_from(["uploaded", "filename", "creator", "size", "dimensions", "id"]),
    st.booleans(),
    st.booleans(),
    st.booleans(),
)
def test_window_equals_brute_force(
    fakes: list[Fake], text: str, column: str, descending: bool, fts: bool, scan_first: bool
) -> None:
    # Both plans of a query with words: the budgeted scan, and the FTS5 fallback it gives way to.
    def fallback_only(
        _conn: object, _attempt: object, fallback: Callable[[], object], _stale: object = None
    ) -> object:
        return fallback()

    budgeted = window_module._budgeted if scan_first else fallback_only
    with mock.patch.object(window_module, "_budgeted", budgeted):
        asyncio.run(check(fakes, text, Sort(column, descending), fts))  # type: ignore[arg-type]


def test_meta_json_kept() -> None:
    image = ImageMetadata(id="x", uploaded=datetime.now(UTC), meta={"a": {"b": [1, "c"]}})
    fields = record(image)
    assert json.loads(fields[10]) == {"a": {"b": [1, "c"]}}
    assert "a.b=1\na.b=c" in fields[-1]


async def test_keystroke_reads_the_top_before_counting() -> None:
    store = CatalogueStore(":memory:")
    try:
        fakes = [ImageMetadata(id=f"img{n:03d}", uploaded=datetime.fromtimestamp(n, UTC)) for n in range(30)]
        await store.transaction(upsert, [record(image) for image in fakes], 1)
        window = CatalogueWindow(store)
        assert await window.set_view(parse_query("img0"), exact=False) is None
        assert [r.id for r in await window.rows(0, 3)] == ["img029", "img028", "img027"]
        assert await window.count(cap=5) == 5
        assert window.total is None
        assert await window.count() == 30 and window.total == 30
    finally:
        await store.aclose()


async def test_words_fold_alike_on_the_index_and_the_scan() -> None:
    """Words of 3+ letters go to the FTS5 index, shorter ones to a scan: both fold case as
    Python's casefold does, so a word finds the same rows however long it is."""
    names = [
        "\u017fs-long-s",
        "ss-plain",
        "\u00b5-micro",
        "\u03bc-mu",
        "\u03c2-final",
        "\u03c3-fine",
        "straße",
        "STRASSE-caps",
    ]
    store = CatalogueStore(":memory:")
    try:
        images = [
            ImageMetadata(id=f"id{n}", filename=name, uploaded=datetime.fromtimestamp(n, UTC))
            for n, name in enumerate(names)
        ]
        await store.transaction(upsert, [record(image) for image in images], 1)
        assert store.fts
        window = CatalogueWindow(store)

        async def found(text: str) -> set[str]:
            total = await window.set_view(parse_query(text), Sort("filename", False))
            got = {names[int(row.id[2:])] for row in await window.rows(0, 20)}
            assert total == len(got), text  # the count agrees with the rows
            return got

        assert await found("ss-") == await found("\u017fs-") == {"\u017fs-long-s", "ss-plain"}
        assert (
            await found("\u017fs")
            == await found("ss")
            == {"\u017fs-long-s", "ss-plain", "straße", "STRASSE-caps"}
        )
        assert await found("\u00b5") == await found("\u03bc-m") == {"\u00b5-micro", "\u03bc-mu"}
        assert await found("\u03c2") == await found("\u03c3-f") == {"\u03c2-final", "\u03c3-fine"}
        assert await found("strasse") == await found("STRAßE") == {"straße", "STRASSE-caps"}
    finally:
        await store.aclose()
