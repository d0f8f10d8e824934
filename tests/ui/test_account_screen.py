"""The account screen (`A`), the session's account cache and the header's quota, on a real
local library in a temp dir (and a backend without account objects)."""

from __future__ import annotations

import pytest
from textual.widgets import Button, DataTable, Input, Static, Switch

from imgtui.service import ErrorCode, Images, ImagesError
from imgtui.service.account import SigningKey, UnsupportedAccount, Usage
from imgtui.ui.account_cache import AccountCache, account_cache, quota_text
from imgtui.ui.app import ImgTuiApp
from imgtui.ui.screens.account import AccountScreen, masked, usage_line
from imgtui.ui.screens.account_forms import ConfirmActionModal, KeyFormModal, VariantFormModal
from imgtui.ui.screens.help import HelpScreen, collect_keys

SIZE = (120, 40)


@pytest.fixture(autouse=True)
def _no_button_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Button, "_start_active_affect", lambda self: None)


async def open_account(pilot, wait_until) -> AccountScreen:
    await wait_until(pilot, lambda: pilot.app.account.cached is not None)
    await pilot.press("A")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, AccountScreen))
    screen = pilot.app.screen
    await wait_until(pilot, lambda: screen.state is not None)
    return screen


def rows(screen: AccountScreen, table_id: str) -> list[list[str]]:
    table = screen.query_one(table_id, DataTable)
    return [[str(cell) for cell in table.get_row_at(index)] for index in range(table.row_count)]


def form_error(app) -> str:
    return str(app.screen.query_one("#form-error", Static).render())


async def test_a_new_library_lists_public_and_one_key_with_its_usage(library_path, fill, wait_until):
    images = Images.local(library_path)
    await fill(images, 3)
    app = ImgTuiApp(images)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_account(pilot, wait_until)
        assert rows(screen, "#variants") == [
            ["public", "scale-down", "12000\u00d712000", "keep", "as the image says"]
        ]
        [[name, value]] = rows(screen, "#keys")
        real = (await images.account.keys.list())[0]
        assert name == real.name == "default"
        assert value == masked(real.value) and real.value not in value  # a secret: its start only
        assert "3 / 100,000" in str(screen.query_one("#account-usage", Static).render())
        assert screen.query_one("#flexible", Switch).value is False
        assert "3 / 100,000 images" in app.title  # the header carries the quota
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, AccountScreen)


async def test_create_edit_and_delete_a_variant(library_path, wait_until):
    images = Images.local(library_path)
    app = ImgTuiApp(images)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_account(pilot, wait_until)
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, VariantFormModal))
        form = app.screen
        form.query_one("#variant-name", Input).value = "thumb"
        form.query_one("#variant-width", Input).value = "0"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "Width must be a whole number of pixels from 1 to 12000" in form_error(app)
        form.query_one("#variant-width", Input).value = "200"
        form.query_one("#variant-height", Input).value = "150"
        form.query_one("#variant-fit").value = "cover"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.screen is screen)
        assert ["thumb", "cover", "200\u00d7150", "none", "as the image says"] in rows(screen, "#variants")
        stored = await images.account.variants.get("thumb")
        assert stored is not None and (stored.options.fit, stored.options.width) == ("cover", 200)
        assert "thumb" in app.account.cached.variant_names  # the cache others read saw it

        # A second variant by the same name: the service's 5409, inside the form.
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, VariantFormModal))
        app.screen.query_one("#variant-name", Input).value = "thumb"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "ERROR 5409" in form_error(app))
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen)

        # Edit: the highlighted row (thumb sorts after public), name fixed.
        table = screen.query_one("#variants", DataTable)
        table.move_cursor(row=1)
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, VariantFormModal))
        assert app.screen.query_one("#variant-name", Input).disabled
        app.screen.query_one("#variant-never-signed").value = True
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.screen is screen)
        assert (await images.account.variants.get("thumb")).never_require_signed_urls is True

        # Delete asks; `n` keeps it, `y` deletes it.
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmActionModal))
        assert "Delete variant thumb?" in str(app.screen.query_one("#confirm-question", Static).render())
        await pilot.press("n")
        await wait_until(pilot, lambda: app.screen is screen)
        assert await images.account.variants.get("thumb") is not None
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmActionModal))
        await pilot.press("y")
        await wait_until(pilot, lambda: app.screen is screen)
        assert await images.account.variants.get("thumb") is None
        assert rows(screen, "#variants")[0][0] == "public" and len(rows(screen, "#variants")) == 1


async def test_the_public_variant_is_never_offered_for_deletion(library_path, wait_until):
    app = ImgTuiApp(Images.local(library_path))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_account(pilot, wait_until)
        await pilot.press("d")
        await pilot.pause()
        assert app.screen is screen  # no dialog
        assert await app.images.account.variants.get("public") is not None


async def test_signing_keys_created_and_deleted(library_path, wait_until):
    images = Images.local(library_path)
    app = ImgTuiApp(images)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_account(pilot, wait_until)
        await pilot.press("k")
        await wait_until(pilot, lambda: isinstance(app.screen, KeyFormModal))
        field = app.screen.query_one("#key-name", Input)
        field.value = "bad-name"
        await pilot.press("enter")
        await pilot.pause()
        assert form_error(app) == "ERROR 5400: A signing key name must be 1 to 99 letters or digits"
        field.value = "default"  # taken: the form warns that the value changes
        await pilot.pause()
        assert app.screen.query_one("#key-warning").display
        field.value = "mobile"
        await pilot.pause()
        assert not app.screen.query_one("#key-warning").display
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is screen)
        assert [row[0] for row in rows(screen, "#keys")] == ["default", "mobile"]
        assert app.account.cached.key_names == ["default", "mobile"]

        keys = screen.query_one("#keys", DataTable)
        keys.focus()
        keys.move_cursor(row=1)
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmActionModal))
        await pilot.press("y")
        await wait_until(pilot, lambda: app.screen is screen)
        assert [key.name for key in await images.account.keys.list()] == ["default"]
        assert [row[0] for row in rows(screen, "#keys")] == ["default"]


async def test_flexible_variants_toggle_is_saved(library_path, wait_until):
    images = Images.local(library_path)
    app = ImgTuiApp(images)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_account(pilot, wait_until)
        await pilot.press("f")
        await wait_until(pilot, lambda: app.account.cached.flexible_variants)
        assert (await images.account.settings.get()).flexible_variants is True
        assert screen.query_one("#flexible", Switch).value is True
        await pilot.press("f")
        await wait_until(pilot, lambda: not app.account.cached.flexible_variants)
        assert (await images.account.settings.get()).flexible_variants is False


class _NoAccount:
    """A real library whose account part is the service's `UnsupportedAccount` (as wrangler's)."""

    def __init__(self, inner) -> None:
        self._inner = inner
        self.account = UnsupportedAccount("wrangler dev's images")

    def __getattr__(self, name: str):
        return getattr(self._inner, name)


async def test_a_library_without_an_account_says_so_and_offers_nothing(library_path, wait_until):
    real = Images.local(library_path)
    images = Images(_NoAccount(real.backend))  # type: ignore[arg-type]
    app = ImgTuiApp(images)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_account(pilot, wait_until)
        error = str(screen.query_one("#account-error", Static).render())
        assert error == "ERROR 5400: wrangler dev's images has no account variants, keys or settings"
        assert screen.query_one("#flexible", Switch).disabled
        for key in ("n", "k", "f", "d"):
            await pilot.press(key)
            await pilot.pause()
            assert app.screen is screen  # nothing opens
        assert app.title == "imgtui"  # no quota to show
    await real.aclose()


class _HostileKeys:
    """An account whose keys carry terminal escapes (a REST server can send anything)."""

    def __init__(self, inner) -> None:
        self._inner = inner

    def __getattr__(self, name: str):
        return getattr(self._inner, name)

    async def list_signing_keys(self) -> list[SigningKey]:
        return [SigningKey("k\x1b]0;pwned\x07", "\x1b[2Jsecret-value")]


async def test_hostile_key_names_and_values_are_escaped(library_path, wait_until):
    real = Images.local(library_path)
    backend = real.backend

    class Wrapped:
        account = _HostileKeys(backend.account)

        def __getattr__(self, name: str):
            return getattr(backend, name)

    app = ImgTuiApp(Images(Wrapped()))  # type: ignore[arg-type]
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_account(pilot, wait_until)
        [[name, value]] = rows(screen, "#keys")
        assert "\x1b" not in name + value and "\x07" not in name
        assert "\\x1b" in name  # shown as a visible escape
    await real.aclose()


async def test_quota_follows_uploads_and_deletes_with_one_read(library_path, fill, wait_until, monkeypatch):
    images = Images.local(library_path)
    await fill(images, 2)
    monkeypatch.setattr(ImgTuiApp, "USAGE_REFRESH_SECONDS", 0.05)
    reads: list[int] = []
    original = AccountCache.refresh_usage

    async def counted(self):
        reads.append(1)
        return await original(self)

    monkeypatch.setattr(AccountCache, "refresh_usage", counted)
    app = ImgTuiApp(images)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "2 / 100,000 images" in app.title)
        await fill(images, 3, prefix="more")  # elsewhere: only a real read can know
        for _ in range(3):
            app.images_changed(+1)  # three uploads in a row
        assert "5 / 100,000 images" in app.title  # counted at once
        await wait_until(pilot, lambda: reads == [1])
        assert "5 / 100,000 images" in app.title
        app.images_changed(-2)
        assert "3 / 100,000 images" in app.title
        await wait_until(pilot, lambda: len(reads) == 2)
        assert "5 / 100,000 images" in app.title  # the real count wins


def test_quota_and_usage_texts() -> None:
    assert quota_text(None) == ""
    assert quota_text(Usage(1234, 100_000)) == "1,234 / 100,000 images"
    assert "unknown" in usage_line(None).plain
    line = usage_line(Usage(50_000, 100_000)).plain
    assert "50,000 / 100,000" in line and "50.0%" in line and "█" * 10 + "░" * 10 in line
    assert "0.0%" in usage_line(Usage(0, 0)).plain  # an allowance of 0 is no division by zero


async def test_one_reading_for_concurrent_callers(library_path) -> None:
    import asyncio

    images = Images.local(library_path)
    calls: list[str] = []
    account = images.account
    original = account.variants.list

    async def listed():
        calls.append("list")
        return await original()

    account.variants.list = listed  # type: ignore[method-assign]
    cache = account_cache(images)
    first, second = await asyncio.gather(cache.state(), cache.state())
    assert first is second and calls == ["list"]
    assert account_cache(images) is cache
    await cache.state(refresh=True)
    assert calls == ["list", "list"]
    await images.aclose()


async def test_a_failed_stats_call_leaves_the_rest(library_path) -> None:
    images = Images.local(library_path)

    async def broken():
        raise ImagesError(ErrorCode.NETWORK, "stats down")

    images.account.stats = broken  # type: ignore[method-assign]
    state = await AccountCache(images).state()
    assert state.available and state.usage is None and state.variant_names == ["public"]
    await images.aclose()


async def test_help_lists_the_account_keys(library_path, wait_until):
    app = ImgTuiApp(Images.local(library_path))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_account(pilot, wait_until)
        groups = collect_keys(screen)
        account = dict((description, keys) for keys, description in groups["Account"])
        assert account["Create a named variant"] == "n"
        assert "Delete the highlighted variant or key (asks first)" in account
        main_groups = collect_keys(app.main_screen)
        assert any(keys == "A" for keys, _ in main_groups["App"])
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))


async def test_quota_counts_the_demo_images_drawn_after_it_was_read(library_path, wait_until, monkeypatch):
    from imgtui.workflows import demo

    few = demo.demo_catalog()[:4]  # drawing all 60 costs seconds; the count is what matters
    monkeypatch.setattr(demo, "demo_catalog", lambda: few)
    monkeypatch.setattr(ImgTuiApp, "USAGE_REFRESH_SECONDS", 0.05)
    app = ImgTuiApp(Images.local(library_path), demo=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "4 / 100,000 images" in app.title, within=30)


async def test_a_state_read_before_mount_finishes_is_still_shown(library_path, fill, wait_until, monkeypatch):
    """The read worker can finish before on_mount returns (Python 3.12 in a real terminal):
    `is_mounted` is still False then, and the screen must show the state anyway."""
    images = Images.local(library_path)
    await fill(images, 2)
    monkeypatch.setattr(AccountScreen, "is_mounted", property(lambda self: False))
    app = ImgTuiApp(images)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_account(pilot, wait_until)
        await pilot.pause()
        assert "2 / 100,000" in str(screen.query_one("#account-usage", Static).render())
        await pilot.press("escape")
        await pilot.pause()
    await images.aclose()
