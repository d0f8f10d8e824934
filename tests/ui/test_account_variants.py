"""The account's real variants and keys where the TUI offers them: the details panel (and
its on-demand variant sizes, fetched from `imgtui serve` over loopback), the copy menu and
the signed-URL form."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Button, Select, Static

from imgtui.service import Images
from imgtui.service.account import UnsupportedAccount
from imgtui.service.signing import check_signature
from imgtui.ui.account_cache import account_cache, variant_rows
from imgtui.ui.modals.signed_urls import SignedUrlCopyModal
from imgtui.ui.screens.choices import copy_choices
from imgtui.ui.variant_sizes import MAX_VARIANTS, measure_variants
from imgtui.ui.widgets.details import DetailsPanel
from imgtui.ui.widgets.table_layout import LOCK_GLYPH
from tests.rest_harness import ScriptedServer, http_head, rest_server_and_images

try:
    from .conftest import png_bytes
    from .test_modal_kit import ModalHost, settle
except ImportError:
    from conftest import png_bytes  # type: ignore[no-redef]
    from test_modal_kit import ModalHost, settle  # type: ignore[no-redef]

THUMB = {"fit": "scale-down", "width": 32, "height": 32, "metadata": "none"}


@pytest.fixture(autouse=True)
def _no_button_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Button, "_start_active_affect", lambda self: None)


class PanelHost(App):
    def __init__(self, images: Images) -> None:
        super().__init__()
        self.images = images

    def compose(self) -> ComposeResult:
        yield DetailsPanel(self.images, id="details")


def variants_text(app: App) -> str:
    content = app.query_one("#details-variants", Static).content
    return content.plain if hasattr(content, "plain") else str(content)


async def shown(pilot, wait_until, image_id: str) -> DetailsPanel:
    panel = pilot.app.query_one(DetailsPanel)
    panel.show(image_id)
    await wait_until(pilot, lambda: panel.shown is not None and panel.shown.id == image_id)
    await wait_until(pilot, lambda: account_cache(panel.images).cached is not None)
    await pilot.pause()
    return panel


async def test_the_panel_lists_the_accounts_variants_and_follows_changes(library_path, wait_until):
    images = Images.local(library_path)
    await images.account.variants.create("thumb", {**THUMB, "fit": "cover"}, never_require_signed_urls=True)
    image = await images.hosted.upload(png_bytes(), require_signed_urls=True)
    app = PanelHost(images)
    async with app.run_test(size=(100, 50)) as pilot:
        await shown(pilot, wait_until, image.id)
        lines = variants_text(app).splitlines()
        public = next(line for line in lines if line.startswith("public"))
        thumb = next(line for line in lines if line.startswith("thumb"))
        assert public == f"public  scale-down 12000\u00d712000  {LOCK_GLYPH}"
        assert thumb == "thumb  cover 32\u00d732"  # never requires a signature: no lock
        # The account screen changes the variants: the panel redraws them, no new request.
        cache = account_cache(images)
        cache.set_variants([v for v in cache.cached.variants if v.id != "thumb"])
        await pilot.pause()
        assert not any(line.startswith("thumb") for line in variants_text(app).splitlines())
    await images.aclose()


async def test_variant_sizes_are_measured_through_imgtui_serve(tmp_path, wait_until):
    async with rest_server_and_images(tmp_path / "lib") as (_server, images):
        await images.account.variants.create("thumb", THUMB)
        image = await images.hosted.upload(png_bytes(64, 48))
        private = await images.hosted.upload(png_bytes(64, 48), require_signed_urls=True)
        app = PanelHost(images)
        async with app.run_test(size=(110, 50)) as pilot:
            await shown(pilot, wait_until, image.id)
            assert "PNG" not in variants_text(app)  # nothing fetched until asked
            assert app.query_one(DetailsPanel).measure_variants()
            await wait_until(pilot, lambda: "32\u00d724 px" in variants_text(app))
            lines = variants_text(app).splitlines()
            assert "64\u00d748 px" in next(line for line in lines if line.startswith("public"))
            assert "32\u00d724 px" in next(line for line in lines if line.startswith("thumb"))
            # A private image: measured through signed URLs, not refused with 401.
            await shown(pilot, wait_until, private.id)
            assert app.query_one(DetailsPanel).measure_variants()
            await wait_until(pilot, lambda: "32\u00d724 px" in variants_text(app))
            assert "HTTP 401" not in variants_text(app)


async def test_measuring_is_capped_and_failures_say_why() -> None:
    def huge(request, conn, stop) -> None:
        conn.sendall(http_head(200, {"Content-Type": "image/png"}, length=50 * 1024 * 1024))

    with ScriptedServer(huge) as server:
        urls = [(f"v{n}", f"{server.base_url}/img/v{n}") for n in range(MAX_VARIANTS + 8)]
        urls.append(("gone", "http://127.0.0.1:9/nothing-listens-here"))
        measured = await measure_variants(urls)
    assert len(measured) == MAX_VARIANTS  # the rest are never fetched
    assert len(server.requests) == MAX_VARIANTS
    assert all(size.error == "larger than 10.0 MiB" for size in measured), measured[0]
    [refused] = await measure_variants([("gone", "http://127.0.0.1:9/x")])
    assert refused.error is not None and "not reachable" in refused.error


async def test_a_bad_answer_is_an_error_not_a_size() -> None:
    def html(request, conn, stop) -> None:
        body = b"<html>not an image</html>"
        conn.sendall(http_head(200, {"Content-Type": "image/png"}, length=len(body)) + body)

    with ScriptedServer(html) as server:
        [size] = await measure_variants([("public", f"{server.base_url}/x/public")])
    assert size.width is None and size.error


async def test_the_copy_menu_offers_the_accounts_variants(library_path):
    images = Images.local(library_path)
    await images.account.variants.create("thumb", THUMB, never_require_signed_urls=True)
    private = await images.hosted.upload(png_bytes(), require_signed_urls=True, filename="p.png")
    choices = {choice.label: choice.value for choice in await copy_choices(images, private, [])}
    assert list(choices) == ["ID", "Filename", "public URL (signed, valid 1 hour)", "thumb URL"]
    signed = urlsplit(choices["public URL (signed, valid 1 hour)"])
    assert (
        "sig" in parse_qs(signed.query)
        and abs(int(parse_qs(signed.query)["exp"][0]) - time.time() - 3600) < 60
    )
    assert "sig=" not in choices["thumb URL"] and choices["thumb URL"].endswith(f"/{private.id}/thumb")
    marked = await copy_choices(images, private, [private, private])
    assert marked[0].label == "IDs of the 2 marked images"
    await images.aclose()


async def test_the_copy_menu_falls_back_to_the_images_own_urls(library_path):
    real = Images.local(library_path)
    image = await real.hosted.upload(png_bytes())

    class NoAccount:
        account = UnsupportedAccount("a read-only store")

        def __getattr__(self, name):
            return getattr(real.backend, name)

    images = Images(NoAccount())  # type: ignore[arg-type]
    choices = await copy_choices(images, image, [])
    assert [choice.label for choice in choices] == ["ID", "Filename", "public URL"]
    assert variant_rows(image, None)[0].url == image.variants[0]
    await real.aclose()


async def test_the_signed_url_form_offers_the_accounts_variants_and_keys(library_path):
    images = Images.local(library_path)
    image = await images.hosted.upload(png_bytes())
    await images.account.variants.create("thumb", THUMB)  # after the upload: not in its record
    keys = {key.name: key.value for key in await images.account.keys.create("mobile")}
    app = ModalHost(lambda: SignedUrlCopyModal(images, image))
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot, app)
        form = app.screen
        variant = form.query_one("#variant", Select)
        assert [value for _label, value in variant._options if value != Select.BLANK] == ["public", "thumb"]
        key = form.query_one("#key", Select)
        assert key.display
        assert [value for _label, value in key._options][1:] == ["default", "mobile"]
        variant.value = "thumb"
        key.value = "mobile"
        await pilot.pause()
        await pilot.click("#copy")
        await settle(pilot, app)
        await pilot.press("enter")
        await pilot.pause()
    url = urlsplit(app.result)
    assert url.path.endswith(f"/{image.id}/thumb")
    assert check_signature(url.path, url.query, keys["mobile"], now=time.time()) is None
    assert check_signature(url.path, url.query, keys["default"], now=time.time()) is not None
    await images.aclose()


async def test_one_key_means_no_key_field(library_path):
    images = Images.local(library_path)
    image = await images.hosted.upload(png_bytes())
    app = ModalHost(lambda: SignedUrlCopyModal(images, image))
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot, app)
        assert not app.screen.query_one("#key").display
    await images.aclose()
