"""Issue 14: safe reads retried with backoff (trip 8); demo upload times spread (trip 9)."""

from __future__ import annotations

import pytest

from imgtui.service import ErrorCode, ImagesError
from imgtui.workflows.demo_clock import DemoClock
from imgtui.workflows.retry import retry_read


async def test_a_transient_failure_is_read_again_with_backoff():
    calls: list[int] = []
    slept: list[float] = []

    async def read() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise ImagesError(500, "Internal server error")
        return "ok"

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    assert await retry_read(read, backoff=(0.1, 0.2, 0.4), sleep=sleep) == "ok"
    assert len(calls) == 3 and slept == [0.1, 0.2]


async def test_a_permanent_failure_or_the_last_try_is_raised():
    async def missing() -> None:
        raise ImagesError(ErrorCode.AUTHENTICATION, "no")

    async def sleep(seconds: float) -> None:
        raise AssertionError("no wait before a permanent failure")

    with pytest.raises(ImagesError):
        await retry_read(missing, sleep=sleep)
    tries: list[int] = []

    async def down() -> None:
        tries.append(1)
        raise ImagesError(ErrorCode.NETWORK, "down")

    async def no_wait(seconds: float) -> None:
        pass

    with pytest.raises(ImagesError):
        await retry_read(down, backoff=(0, 0), sleep=no_wait)
    assert len(tries) == 3


def test_demo_clock_spreads_the_demo_and_stamps_the_rest_now():
    now = 1_800_000_000_000
    clock = DemoClock(lambda: now)
    clock.start(60)
    times = [clock() for _ in range(60)]
    clock.stop()
    assert times == sorted(times) and times[-1] < now
    assert len({t // 60_000 for t in times}) == 60  # no two in the same minute
    assert clock() == now


def test_a_delivery_url_is_named_after_the_image_not_the_variant():
    # Issue 14, trip 5 (the form's side): `…/<id>/public` used to be filed as "public".
    from imgtui.workflows.upload_queue import filename_from_url

    assert filename_from_url(
        "https://imagedelivery.net/ZWd9g1K7eljCn_KDTu_MWA/products/shoe-1/public", "png"
    ) == ("shoe-1.png")
    served = "http://127.0.0.1:1/cdn-cgi/imagedelivery/CloGLh9pe3Lfq69oIQuAuw/brand/logo.svg/thumbnail"
    assert filename_from_url(served, "svg") == "logo.svg"
    assert filename_from_url("https://example.com/pics/cat.png", "png") == "cat.png"
    # The server's Content-Disposition name comes first, with the type's extension when it has none.
    assert filename_from_url("https://example.com/get?id=7", "png", given="report") == "report.png"
    assert filename_from_url("https://example.com/get?id=7", "png", given="cat.webp") == "cat.webp"
