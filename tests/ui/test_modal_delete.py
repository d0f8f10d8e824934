"""ConfirmDeleteModal on a real local library."""

from __future__ import annotations

import pytest
from textual.widgets import Button, Static

from imgtui.service import ErrorCode, ImagesError
from imgtui.ui.modals import ConfirmDeleteModal
from imgtui.ui.modals.common import ErrorLine

try:
    from .test_modal_kit import ModalHost, library, png_bytes, recorder, settle
except ImportError:
    from test_modal_kit import ModalHost, library, png_bytes, recorder, settle  # type: ignore[no-redef]

__all__ = ["library"]


async def upload_many(images, count: int) -> list:
    return [
        await images.hosted.upload(png_bytes((index, 5, 5)), filename=f"img{index}.png")
        for index in range(count)
    ]


async def remaining(images) -> set[str]:
    return {meta.id for meta in (await images.hosted.list(limit=100)).images}


async def test_one_image_named_cancel_focused_y_deletes(library):
    [image] = await upload_many(library, 1)
    recorder(library).calls.clear()
    app = ModalHost(lambda: ConfirmDeleteModal(library, [image]))
    async with app.run_test(size=(90, 30)) as pilot:
        await pilot.pause()
        targets = str(app.screen.query_one("#delete-targets", Static).render())
        assert image.id in targets and "img0.png" in targets
        assert app.focused.id == "cancel"  # safety first
        await pilot.press("y")
        await settle(pilot, app)
    assert app.result == [image.id]
    assert await remaining(library) == set()


async def test_enter_on_default_focus_cancels(library):
    [image] = await upload_many(library, 1)
    recorder(library).calls.clear()
    app = ModalHost(lambda: ConfirmDeleteModal(library, [image]))
    async with app.run_test(size=(90, 30)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
    assert app.result is None
    assert recorder(library).calls == []
    assert await remaining(library) == {image.id}


@pytest.mark.parametrize("key", ["escape", "n"])
async def test_escape_or_n_cancels_without_calls(library, key):
    images = await upload_many(library, 2)
    recorder(library).calls.clear()
    app = ModalHost(lambda: ConfirmDeleteModal(library, images))
    async with app.run_test(size=(90, 30)) as pilot:
        await pilot.pause()
        await pilot.press(key)
        await pilot.pause()
    assert app.result is None
    assert recorder(library).calls == []


async def test_several_shows_count_and_first_few_and_enter_on_delete(library):
    images = await upload_many(library, 8)
    app = ModalHost(lambda: ConfirmDeleteModal(library, images))
    async with app.run_test(size=(90, 30)) as pilot:
        await pilot.pause()
        assert app.screen.query_one("#dialog").border_title == "Delete 8 images"
        targets = str(app.screen.query_one("#delete-targets", Static).render())
        assert "img4.png" in targets and "img5.png" not in targets and "… and 3 more" in targets
        app.screen.query_one("#delete", Button).focus()
        await pilot.press("enter")
        await settle(pilot, app)
    assert app.result == [image.id for image in images]
    assert await remaining(library) == set()


async def test_failures_listed_rest_deleted_retry_then_close(library):
    images = await upload_many(library, 4)
    doomed = images[1].id
    recorder(library).fail["delete"] = lambda args: (
        ImagesError(ErrorCode.NETWORK, "Connection reset") if args[0] == doomed else None
    )
    app = ModalHost(lambda: ConfirmDeleteModal(library, images))
    async with app.run_test(size=(90, 30)) as pilot:
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot, app)
        assert isinstance(app.screen, ConfirmDeleteModal)
        summary = str(app.screen.query_one("#delete-summary", Static).render())
        assert "Deleted 3 of 4." in summary
        assert f"✗ {doomed}  img1.png: ERROR 9000: Connection reset" in summary
        assert str(app.screen.query_one("#form-error", ErrorLine).render()).startswith(
            "1 could not be deleted"
        )
        assert str(app.screen.query_one("#delete", Button).label) == "Retry failed"
        recorder(library).fail.clear()
        recorder(library).calls.clear()
        await pilot.press("y")  # retry only the failed one
        await settle(pilot, app)
    assert [args[0] for name, args in recorder(library).calls if name == "delete"] == [doomed]
    assert sorted(app.result) == sorted(image.id for image in images)
    assert await remaining(library) == set()


async def test_close_after_failure_returns_what_is_gone(library):
    images = await upload_many(library, 3)
    recorder(library).fail["delete"] = lambda args: (
        ImagesError(ErrorCode.NOT_AUTHORIZED, "Not allowed") if args[0] == images[2].id else None
    )
    app = ModalHost(lambda: ConfirmDeleteModal(library, images))
    async with app.run_test(size=(90, 30)) as pilot:
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot, app)
        await pilot.press("escape")
        await pilot.pause()
    assert app.result == [images[0].id, images[1].id]
    assert await remaining(library) == {images[2].id}


async def test_already_gone_counts_as_deleted_and_is_said(library):
    images = await upload_many(library, 2)
    await library.hosted.image(images[0].id).delete()  # deleted elsewhere meanwhile
    app = ModalHost(lambda: ConfirmDeleteModal(library, images))
    async with app.run_test(size=(90, 30)) as pilot:
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot, app)
        summary = str(app.screen.query_one("#delete-summary", Static).render())
        assert f"Already gone (deleted elsewhere): {images[0].id}." in summary
        assert not app.screen.query_one("#delete").display
        assert app.focused.id == "cancel"
        await pilot.press("enter")
        await pilot.pause()
    assert app.result == [images[0].id, images[1].id]


def test_needs_a_target(library):
    with pytest.raises(ValueError):
        ConfirmDeleteModal(library, [])
