"""SignedUrlsModal and SignedUrlCopyModal on a real local library."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

from textual.widgets import Button, Input, Select, Static

from imgtui.service import ErrorCode, ImagesError
from imgtui.ui.modals import SignedUrlCopyModal, SignedUrlsModal
from imgtui.ui.modals.common import ErrorLine
from imgtui.ui.modals.signed_urls import CUSTOM_ID_PRIVATE_REASON, variant_names

try:
    from .test_modal_kit import ModalHost, library, png_bytes, recorder, settle
except ImportError:
    from test_modal_kit import ModalHost, library, png_bytes, recorder, settle  # type: ignore[no-redef]

__all__ = ["library"]


def error_text(app) -> str:
    return str(app.screen.query_one("#form-error", ErrorLine).render())


async def test_make_private_then_public(library):
    image = await library.hosted.upload(png_bytes())
    app = ModalHost(lambda: SignedUrlsModal(library, image))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert "Public" in str(app.screen.query_one("#signed-state", Static).render())
        assert "cached copies are purged" in str(app.screen.query_one("#signed-effect", Static).render())
        assert app.focused.id == "confirm"
        await pilot.press("enter")
        await settle(pilot, app)
    assert app.result.require_signed_urls is True
    assert (await library.hosted.image(image.id).details()).require_signed_urls is True

    private = app.result
    app = ModalHost(lambda: SignedUrlsModal(library, private))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert str(app.screen.query_one("#confirm", Button).label) == "Make public"
        await pilot.click("#confirm")
        await settle(pilot, app)
    assert app.result.require_signed_urls is False


async def test_custom_id_cannot_be_made_private_up_front(library):
    image = await library.hosted.upload(png_bytes(), id="products/shoe-1")
    recorder(library).calls.clear()
    app = ModalHost(lambda: SignedUrlsModal(library, image))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert str(app.screen.query_one("#signed-refused", Static).render()) == CUSTOM_ID_PRIVATE_REASON
        assert app.screen.query_one("#confirm", Button).disabled
        assert app.focused.id == "cancel"
        app.screen._confirm()  # even a forced confirm does nothing
        await settle(pilot, app)
        await pilot.press("enter")  # Enter on the focused Cancel
        await pilot.pause()
    assert app.result is None
    assert recorder(library).calls == []


async def test_update_failure_is_shown_in_the_form(library):
    image = await library.hosted.upload(png_bytes())
    recorder(library).fail["update"] = ImagesError(ErrorCode.NETWORK, "Cannot reach api.cloudflare.com")
    app = ModalHost(lambda: SignedUrlsModal(library, image))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot, app)
        assert isinstance(app.screen, SignedUrlsModal)
        assert error_text(app) == "ERROR 9000: Cannot reach api.cloudflare.com"
        assert not app.screen.query_one("#confirm", Button).disabled
        await pilot.press("escape")
        await pilot.pause()
    assert app.result is None


async def test_escape_cancels_without_a_call(library):
    image = await library.hosted.upload(png_bytes())
    recorder(library).calls.clear()
    app = ModalHost(lambda: SignedUrlsModal(library, image))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
    assert app.result is None
    assert recorder(library).calls == []


def test_variant_names_from_delivery_urls(library):
    from datetime import UTC, datetime

    from imgtui.service import ImageMetadata

    meta = ImageMetadata(
        id="a/b",
        uploaded=datetime(2026, 1, 1, tzinfo=UTC),
        variants=["https://imagedelivery.net/h/a/b/thumbnail", "https://imagedelivery.net/h/a/b/public"],
    )
    assert variant_names(meta) == ["thumbnail", "public"]
    assert variant_names(meta.model_copy(update={"variants": []})) == ["public"]


async def test_copy_signed_url_default_one_day(library):
    image = await library.hosted.upload(png_bytes())
    app = ModalHost(lambda: SignedUrlCopyModal(library, image))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.focused.id == "copy"
        await pilot.press("enter")
        await settle(pilot, app)
        shown = str(app.screen.query_one("#signed-url", Static).render())
        assert app.clipboard == shown
        assert str(app.screen.query_one("#copy", Button).label) == "Done"
        await pilot.press("enter")
        await pilot.pause()
    url = app.result
    assert url == shown
    query = parse_qs(urlsplit(url).query)
    assert urlsplit(url).path.endswith(f"/{image.id}/public")
    assert abs(int(query["exp"][0]) - (time.time() + 86400)) < 60
    assert query["sig"][0]


async def test_copy_signed_url_variant_never_and_custom(library):
    # A new library has only `public`, as a new Cloudflare account does: add a named variant.
    await library.account.variants.create(
        "thumbnail", {"fit": "scale-down", "width": 320, "height": 320, "metadata": "none"}
    )
    image = await library.hosted.upload(png_bytes())
    app = ModalHost(lambda: SignedUrlCopyModal(library, image))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        app.screen.query_one("#variant", Select).value = "thumbnail"
        app.screen.query_one("#expiry", Select).value = "never"
        await pilot.pause()
        await pilot.click("#copy")
        await settle(pilot, app)
        await pilot.press("escape")  # after making it, closing hands the URL back
        await pilot.pause()
    assert "/thumbnail?" in app.result
    assert "exp=" not in app.result

    recorder(library).calls.clear()
    app = ModalHost(lambda: SignedUrlCopyModal(library, image))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        app.screen.query_one("#expiry", Select).value = "custom"
        await pilot.pause()
        custom = app.screen.query_one("#custom-seconds", Input)
        assert custom.display and app.focused is custom
        for bad in ("", "0"):
            custom.value = bad
            await pilot.press("enter")
            await pilot.pause()
            assert "whole number of seconds" in error_text(app)
        assert "signed_url" not in recorder(library).names()
        custom.value = "900"
        await pilot.press("enter")
        await settle(pilot, app)
        await pilot.press("enter")
        await pilot.pause()
    assert abs(int(parse_qs(urlsplit(app.result).query)["exp"][0]) - (time.time() + 900)) < 60


async def test_copy_failure_shown_and_nothing_copied(library):
    image = await library.hosted.upload(png_bytes())
    recorder(library).fail["signed_url"] = ImagesError(ErrorCode.NOT_AUTHORIZED, "No signing key")
    app = ModalHost(lambda: SignedUrlCopyModal(library, image))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot, app)
        assert error_text(app) == "ERROR 5403: No signing key"
        assert app.clipboard == ""
        assert not app.screen.query_one("#signed-url").display
        await pilot.press("escape")
        await pilot.pause()
    assert app.result is None


async def test_copy_escape_before_making_returns_none(library):
    image = await library.hosted.upload(png_bytes())
    recorder(library).calls.clear()
    app = ModalHost(lambda: SignedUrlCopyModal(library, image))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
    assert app.result is None
    assert recorder(library).calls == []


def shown_buttons(app) -> list[str]:
    return [str(button.label) for button in app.screen.query(Button) if button.display]


async def test_once_copied_one_button_closes(library):
    """Done and Close side by side did the same thing: after a copy only Done is shown."""
    image = await library.hosted.upload(png_bytes())
    app = ModalHost(lambda: SignedUrlCopyModal(library, image))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert shown_buttons(app) == ["Copy URL", "Cancel"]
        await pilot.press("enter")
        await settle(pilot, app)
        assert shown_buttons(app) == ["Done"]
        assert app.focused.id == "copy"
        app.screen.query_one("#expiry", Select).value = "never"  # another choice: not copied yet
        await pilot.pause()
        assert shown_buttons(app) == ["Copy URL", "Close"]  # closing still hands back the last URL
        await pilot.click("#copy")
        await settle(pilot, app)
        assert shown_buttons(app) == ["Done"]
        shown = str(app.screen.query_one("#signed-url", Static).render())
        await pilot.press("enter")
        await pilot.pause()
    assert app.result == shown and "exp=" not in shown


async def test_ctrl_s_applies_and_copies(library):
    # Issue 14, trip 3: ctrl+s works in these forms as in every other one.
    image = await library.hosted.upload(png_bytes())
    app = ModalHost(lambda: SignedUrlsModal(library, image))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+s")
        await settle(pilot, app)
    private = app.result
    assert private is not None and private.require_signed_urls is True

    app = ModalHost(lambda: SignedUrlCopyModal(library, private))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        assert app.clipboard.startswith("http")
        await pilot.press("ctrl+s")  # "Done"
        await pilot.pause()
    assert app.result == app.clipboard
