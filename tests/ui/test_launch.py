"""Launch speed-ups keep behaviour: the prefetched first page, and the GC switch of the CLI."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path

import pytest

from imgtui import cli as entry
from imgtui.service import Images, ImagesError
from imgtui.workflows.pager import FIRST_PAGE, START_SORT_ORDER, ImagePager, prefetch_first_page


def first_pager(images: Images, sort_order: str = START_SORT_ORDER) -> ImagePager:
    return ImagePager(images, sort_order=sort_order, creator=None, first_page=FIRST_PAGE)


async def upload_then_list(fill, images: Images, *pagers: ImagePager) -> list[list[str]]:
    """Upload one more image, then take the first page of each pager (ids, in order)."""
    await fill(images, 1, prefix="late")
    return [[image.id for image in (await pager.next_page()).images] for pager in pagers]


def test_first_pager_starts_from_the_prefetched_page_once(library_path: Path, fill):
    images = Images.local(library_path)
    asyncio.run(fill(images, 3))
    assert prefetch_first_page(images) is True
    # The image uploaded after the prefetch is missing from the prefetched page only: a
    # second pager of the same query (a refresh) asks the library again.
    prefetched, fresh = asyncio.run(upload_then_list(fill, images, first_pager(images), first_pager(images)))
    assert prefetched == ["img-0002", "img-0001", "img-0000"]
    assert fresh == ["late-0000", "img-0002", "img-0001", "img-0000"]
    asyncio.run(images.aclose())


def test_a_prefetched_page_of_another_query_is_dropped(library_path: Path, fill):
    images = Images.local(library_path)
    asyncio.run(fill(images, 2))
    assert prefetch_first_page(images, sort_order="desc") is True
    oldest_first, newest_first = asyncio.run(
        upload_then_list(fill, images, first_pager(images, "asc"), first_pager(images, "desc"))
    )
    assert oldest_first == ["img-0000", "img-0001", "late-0000"]
    assert newest_first == ["late-0000", "img-0001", "img-0000"]  # not the stale prefetch
    asyncio.run(images.aclose())


def test_prefetch_failures_are_left_to_the_ui(tmp_path: Path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a library")
    images = Images.local(blocker)
    assert prefetch_first_page(images) is False
    with pytest.raises(ImagesError):  # the pager asks again and the UI reports the error
        asyncio.run(first_pager(images).next_page())
    asyncio.run(images.aclose())


def test_prefetch_gives_up_after_its_timeout(library_path: Path):
    images = Images.local(library_path)
    assert prefetch_first_page(images, timeout=0) is False
    page = asyncio.run(first_pager(images).next_page())  # then the pager reads it itself
    assert page.images == [] and page.list_complete
    asyncio.run(images.aclose())


def test_the_cli_turns_the_gc_back_on_whatever_happens(capsys, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN", raising=False)
    assert gc.isenabled()
    with pytest.raises(SystemExit):
        entry.main(["--help"])
    assert gc.isenabled()
    assert entry.main(["--account-id", "abc"]) == 2  # no token: an error before App.run
    assert gc.isenabled()
    assert "imgtui" in capsys.readouterr().err
