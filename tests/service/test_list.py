"""Conformance: list pagination, limits, sort orders, cursors and the creator filter."""

from __future__ import annotations

import pytest

from imgtui.service import Images, ImagesError

from .imagedata import distinct_png


async def _upload_n(images: Images, n: int, creator: str | None = None, prefix: str = "img") -> list[str]:
    ids = []
    for i in range(n):
        ids.append((await images.hosted.upload(distinct_png(i), id=f"{prefix}{i}", creator=creator)).id)
    return ids


async def _walk(images: Images, **options) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        page = await images.hosted.list(cursor=cursor, **options)
        pages.append([image.id for image in page.images])
        assert page.list_complete is (page.cursor is None)
        if page.cursor is None:
            return pages
        assert len(page.cursor) <= 32
        cursor = page.cursor


async def test_empty_library_lists_nothing(images: Images) -> None:
    page = await images.hosted.list()
    assert (page.images, page.cursor, page.list_complete) == ([], None, True)


async def test_pages_follow_upload_order_both_ways(images: Images) -> None:
    ids = await _upload_n(images, 7)
    assert await _walk(images, limit=3) == [ids[0:3], ids[3:6], ids[6:7]]
    assert await _walk(images, limit=3, sort_order="desc") == [ids[6:3:-1], ids[3:0:-1], ids[0:1]]
    everything = (await images.hosted.list(limit=100)).images
    assert [image.uploaded for image in everything] == sorted(image.uploaded for image in everything)


async def test_a_full_last_page_is_complete_without_an_extra_call(images: Images) -> None:
    ids = await _upload_n(images, 6)
    assert await _walk(images, limit=3) == [ids[0:3], ids[3:6]]
    assert await _walk(images, limit=6) == [ids]


async def test_default_limit_is_50(images: Images) -> None:
    await _upload_n(images, 51)
    page = await images.hosted.list()
    assert len(page.images) == 50 and page.cursor is not None


@pytest.mark.parametrize("limit", [0, -1, 10_001, "5", True, 2.5])
async def test_bad_limits_are_5400(images: Images, limit) -> None:
    with pytest.raises(ImagesError) as info:
        await images.hosted.list(limit=limit)
    assert info.value.code == 5400


async def test_limit_bounds_are_inclusive(images: Images) -> None:
    await _upload_n(images, 2)
    assert len((await images.hosted.list(limit=1)).images) == 1
    assert len((await images.hosted.list(limit=10_000)).images) == 2


@pytest.mark.parametrize("order", ["ASC", "up", "", None])
async def test_bad_sort_order_is_5400(images: Images, order) -> None:
    with pytest.raises(ImagesError) as info:
        await images.hosted.list(sort_order=order)
    assert info.value.code == 5400


async def _first_cursor(images: Images, **options) -> str:
    page = await images.hosted.list(limit=2, **options)
    assert page.cursor
    return page.cursor


def _flip(text: str, index: int) -> str:
    swapped = "A" if text[index] != "A" else "B"
    return text[:index] + swapped + text[index + 1 :]


async def test_forged_garbled_and_foreign_cursors_are_5400(images: Images) -> None:
    await _upload_n(images, 5, creator="ann")
    cursor = await _first_cursor(images)
    ann_cursor = await _first_cursor(images, creator="ann")
    bad = [
        "",
        "AAAAAAAAAAAAAAAAAAAAAAAA",
        "not a cursor!",
        cursor[:-1],
        cursor + "A",
        _flip(cursor, 0),
        _flip(cursor, 2),
        _flip(cursor, len(cursor) - 1),
        cursor.upper(),
        "img1",  # the wrangler mock's cursors are image ids
        "x" * 2000,
    ]
    for token in bad:
        with pytest.raises(ImagesError) as info:
            await images.hosted.list(limit=2, cursor=token)
        assert (info.value.code, info.value.message) == (5400, "Invalid cursor"), token
    foreign = [
        {"cursor": cursor, "sort_order": "desc"},
        {"cursor": cursor, "creator": "ann"},
        {"cursor": ann_cursor},
        {"cursor": ann_cursor, "creator": "bob"},
        {"cursor": ann_cursor, "creator": "ann", "sort_order": "desc"},
    ]
    for options in foreign:
        with pytest.raises(ImagesError) as info:
            await images.hosted.list(limit=2, **options)
        assert info.value.code == 5400, options
    # The genuine ones still work.
    assert len((await images.hosted.list(limit=2, cursor=cursor)).images) == 2
    assert len((await images.hosted.list(limit=2, cursor=ann_cursor, creator="ann")).images) == 2


async def test_a_cursor_survives_deletes_including_its_own_image(images: Images) -> None:
    ids = await _upload_n(images, 6)
    page = await images.hosted.list(limit=2)
    assert [i.id for i in page.images] == ids[:2]
    assert await images.hosted.image(ids[1]).delete()  # the cursor's own image
    assert await images.hosted.image(ids[2]).delete()
    rest = await images.hosted.list(limit=10, cursor=page.cursor)
    assert [i.id for i in rest.images] == ids[3:]


async def test_a_cursor_sees_images_added_after_it_ascending(images: Images) -> None:
    ids = await _upload_n(images, 3)
    page = await images.hosted.list(limit=3)
    assert page.cursor is None
    page = await images.hosted.list(limit=2)
    newer = await _upload_n(images, 2, prefix="new")
    assert [i.id for i in (await images.hosted.list(limit=10, cursor=page.cursor)).images] == ids[2:] + newer
    # Descending, new images sort before the cursor: they are not on the later pages.
    down = await images.hosted.list(limit=2, sort_order="desc")
    await _upload_n(images, 1, prefix="newest")
    later = await images.hosted.list(limit=10, cursor=down.cursor, sort_order="desc")
    assert [i.id for i in down.images] == newer[::-1]
    assert [i.id for i in later.images] == ids[::-1]


async def test_a_reuploaded_id_moves_to_the_end(images: Images) -> None:
    ids = await _upload_n(images, 3)
    await images.hosted.image(ids[0]).delete()
    await images.hosted.upload(distinct_png(99), id=ids[0])
    assert await _walk(images, limit=10) == [[ids[1], ids[2], ids[0]]]


async def test_creator_filter_is_exact(images: Images) -> None:
    ann = await _upload_n(images, 3, creator="ann", prefix="ann")
    await _upload_n(images, 1, creator="Ann", prefix="cap")
    await _upload_n(images, 1, creator="ann ", prefix="space")
    await _upload_n(images, 1, creator=None, prefix="none")
    ann += await _upload_n(images, 2, creator="ann", prefix="ann-late")
    assert await _walk(images, limit=2, creator="ann") == [ann[0:2], ann[2:4], ann[4:5]]
    assert await _walk(images, limit=10, creator="ann", sort_order="desc") == [ann[::-1]]
    assert await _walk(images, limit=10, creator="nobody") == [[]]
    assert [i.id for i in (await images.hosted.list(creator="Ann")).images] == ["cap0"]
    assert len((await images.hosted.list(limit=100)).images) == 8


async def test_creator_changes_are_seen_by_the_filter(images: Images) -> None:
    ids = await _upload_n(images, 2, creator="ann")
    await images.hosted.image(ids[0]).update(creator="bob")
    assert [i.id for i in (await images.hosted.list(creator="ann")).images] == [ids[1]]
    assert [i.id for i in (await images.hosted.list(creator="bob")).images] == [ids[0]]


async def test_new_images_after_deleting_the_cursor_and_everything_after_it(images: Images) -> None:
    # Sequences must never be reused: the new image would hide behind the old cursor.
    ids = await _upload_n(images, 3)
    page = await images.hosted.list(limit=2)
    for image_id in ids[1:]:
        assert await images.hosted.image(image_id).delete()
    newer = await _upload_n(images, 1, prefix="new")
    assert [i.id for i in (await images.hosted.list(limit=10, cursor=page.cursor)).images] == newer
