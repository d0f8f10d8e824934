"""`images.hosted.list(metadata_filter=...)`: the same answers from both backends, cursors as
without filters, bad filters 5400; and the SQL agrees with the reference `matches`."""

from __future__ import annotations

import random
import sqlite3

import pytest

from imgtui.backends.local.filter_sql import filter_sql
from imgtui.service import Images, ImagesError
from imgtui.service.filters import check_metadata_filter, matches, parse_query_filter

from .imagedata import png

METAS = [
    {"status": "active", "rating": 5, "tags": "a", "region": {"name": "eu"}},
    {"status": "active", "rating": 3, "tags": "b", "region": {"name": "us"}},
    {"status": "draft", "rating": 4, "tags": "a"},
    {"status": "active", "rating": 4.5, "flag": True},
    {"status": 1, "rating": "4"},
    None,
]


async def _fill(images: Images) -> list[str]:
    ids = []
    for n, meta in enumerate(METAS):
        ids.append((await images.hosted.upload(png(), id=f"m{n}", metadata=meta)).id)
    return ids


async def _ids(images: Images, metadata_filter: object, **options: object) -> list[str]:
    return [
        image.id for image in (await images.hosted.list(metadata_filter=metadata_filter, **options)).images
    ]  # type: ignore[arg-type]


async def test_filters_select_the_same_images_on_both_backends(images: Images) -> None:
    await _fill(images)
    assert await _ids(images, {"status": {"eq": "active"}}) == ["m0", "m1", "m3"]
    assert await _ids(images, {"status": {"eq": "active"}, "rating": {"gte": 4}}) == ["m0", "m3"]
    assert await _ids(images, {"tags": {"in": ["a", "b"]}}) == ["m0", "m1", "m2"]
    assert await _ids(images, {"region.name": {"eq": "eu"}}) == ["m0"]
    assert await _ids(images, {"rating": {"lt": 4}}) == ["m1"]  # "4" is text: no ordering
    assert await _ids(images, {"rating": {"eq": 4}}) == ["m2"]
    assert await _ids(images, {"flag": {"eq": True}}) == ["m3"]
    assert await _ids(images, {"status": {"eq": 1}}) == ["m4"]
    assert await _ids(images, {"rating": {"gt": 4, "lte": 5}}) == ["m0", "m3"]
    assert await _ids(images, {"status": {"eq": "active"}}, creator="nobody") == []
    assert await _ids(images, {"status": {"eq": "active"}}, sort_order="desc") == ["m3", "m1", "m0"]


async def test_cursors_work_with_filters_exactly_as_without(images: Images) -> None:
    for n in range(25):
        await images.hosted.upload(png(), id=f"i{n:02}", metadata={"even": n % 2 == 0, "n": n})
    wanted = [f"i{n:02}" for n in range(0, 25, 2)]
    for limit in (3, 10):
        seen, cursor = [], None
        while True:
            page = await images.hosted.list(
                limit=limit, cursor=cursor, metadata_filter={"even": {"eq": True}}
            )
            seen += [image.id for image in page.images]
            if page.cursor is None:
                break
            cursor = page.cursor
        assert seen == wanted
    page = await images.hosted.list(limit=3, metadata_filter={"even": {"eq": True}})
    with pytest.raises(ImagesError) as info:  # a cursor is good for its own filter only
        await images.hosted.list(limit=3, cursor=page.cursor, metadata_filter={"even": {"eq": False}})
    assert info.value.code == 5400
    with pytest.raises(ImagesError):
        await images.hosted.list(limit=3, cursor=page.cursor)


@pytest.mark.parametrize(
    "bad",
    [
        {"a": {"like": "x"}},
        {"a": {"gt": "x"}},
        {"a": {"in": []}},
        {"a": {"in": list(range(11))}},
        {"a": {"in": ["x", 1]}},
        {"a": {"eq": None}},
        {"a": {"eq": "x|y"}},
        {"a.b.c.d.e.f": {"eq": 1}},
        {f"f{n}": {"eq": 1} for n in range(6)},
        {"": {"eq": 1}},
        {"a": "x"},
        ["a"],
    ],
)
async def test_a_filter_that_cannot_be_honoured_is_5400(images: Images, bad: object) -> None:
    with pytest.raises(ImagesError) as info:
        await images.hosted.list(metadata_filter=bad)  # type: ignore[arg-type]
    assert info.value.code == 5400


def test_the_sql_agrees_with_the_reference_semantics() -> None:
    rng = random.Random(7)
    values = ["a", "b", "4", 4, 4.5, 3, True, False, {"x": 1}, [1]]
    metas = [None] + [
        {key: rng.choice(values) for key in rng.sample(["p", "q"], rng.randint(0, 2))} for _ in range(60)
    ]
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE images (seq INTEGER PRIMARY KEY, meta TEXT)")
    import json

    conn.executemany(
        "INSERT INTO images (seq, meta) VALUES (?, ?)",
        [(n, None if m is None else json.dumps(m)) for n, m in enumerate(metas)],
    )
    filters = [
        check_metadata_filter({"p": {"eq": "a"}}),
        check_metadata_filter({"p": {"eq": 4}}),
        check_metadata_filter({"p": {"eq": True}}),
        check_metadata_filter({"p": {"in": ["a", "4"]}, "q": {"gte": 3.5}}),
        parse_query_filter([("meta.p[eq]", "4")]),
        parse_query_filter([("meta.p[eq]", "true")]),
        parse_query_filter([("meta.p[in]", "a|4.5")]),
        parse_query_filter([("meta.q[lt]", "4.5")]),
        parse_query_filter([("meta.p[eq:string]", "4")]),
        parse_query_filter([("meta.p[in:number]", "3|4")]),
    ]
    for metadata_filter in filters:
        assert metadata_filter is not None
        sql, params = filter_sql(metadata_filter)
        got = [seq for (seq,) in conn.execute(f"SELECT seq FROM images WHERE 1{sql} ORDER BY seq", params)]
        assert got == [n for n, m in enumerate(metas) if matches(m, metadata_filter)], metadata_filter
