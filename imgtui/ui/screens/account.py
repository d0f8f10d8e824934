"""`A`: the account's own objects: usage, flexible variants, named variants, signing keys.

Everything is read through the session's `AccountCache` (ui/account_cache.py) and every change
is written back into it, so the details panel, the copy menu and the signed-URL form see the
new variants and keys at once. A library without account objects (wrangler's store) shows
why and offers nothing to change. Text from the backend (names, key values, messages) is
escaped on its way to the screen (ui/display.py).
"""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Label, Static, Switch
from textual.widgets.data_table import CellDoesNotExist, RowDoesNotExist

from imgtui.common.text import safe_text
from imgtui.service import Images, ImagesError
from imgtui.service.account import PUBLIC_VARIANT, SigningKey, Usage, Variant
from imgtui.ui.account_cache import AccountState, account_cache
from imgtui.ui.display import plain, plain_text
from imgtui.ui.screens.account_forms import ConfirmActionModal, KeyFormModal, VariantFormModal
from imgtui.ui.styles import tcss_folder
from imgtui.ui.worker_errors import ForwardsWorkerErrors, describe_failure

KEY_SHOWN_CHARS = 6  # a key is a secret: the screen shows its start only
BAR_CELLS = 20


def usage_line(usage: Usage | None) -> Content:
    """`Images stored  1,234 / 100,000  ██░░░  1.2%`, or why it is unknown."""
    if usage is None:
        return Content.from_markup("[b]Images stored[/b]  [$text-muted]unknown (the library did not say)[/]")
    share = usage.current / usage.allowed if usage.allowed > 0 else 0.0
    filled = min(BAR_CELLS, round(share * BAR_CELLS))
    return Content.from_markup(
        "[b]Images stored[/b]  $count  [$accent]$full[/][$text-muted]$empty[/]  $share",
        count=f"{usage.current:,} / {usage.allowed:,}",
        full="█" * filled,
        empty="░" * (BAR_CELLS - filled),
        share=f"{share:.1%}",
    )


def masked(value: str) -> str:
    return value[:KEY_SHOWN_CHARS] + "…" if len(value) > KEY_SHOWN_CHARS else "…"


class AccountScreen(ForwardsWorkerErrors, Screen[None]):
    """The account, as `images.account` reports it; `esc` goes back to the list."""

    BINDING_GROUP_TITLE = "Account"
    CSS_PATH = str(tcss_folder() / "account.tcss")
    AUTO_FOCUS = "#variants"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Back", id="account.close", tooltip="Back to the images"),
        Binding(
            "n", "new_variant", "New variant", id="account.new_variant", tooltip="Create a named variant"
        ),
        Binding(
            "e", "edit_variant", "Edit", id="account.edit_variant", tooltip="Edit the highlighted variant"
        ),
        Binding("k", "new_key", "New key", id="account.new_key", tooltip="Create a URL signing key"),
        Binding(
            "d,delete",
            "delete",
            "Delete",
            id="account.delete",
            tooltip="Delete the highlighted variant or key (asks first)",
        ),
        Binding(
            "f",
            "toggle_flexible",
            "Flexible",
            id="account.flexible",
            tooltip="Turn flexible variants on or off",
        ),
        Binding("r", "refresh", "Refresh", id="account.refresh", tooltip="Read the account again"),
    ]

    def __init__(self, images: Images) -> None:
        super().__init__(id="account")
        self.images = images
        self.cache = account_cache(images)
        self.state: AccountState | None = None
        self._closed = False  # unmounted: a late publish must not touch its widgets

    def compose(self) -> ComposeResult:
        yield Header(icon="▣")
        with VerticalScroll(id="account-body"):
            yield Static("Reading the account…", id="account-usage")
            yield Static("", id="account-error", classes="account-error")
            with Horizontal(id="flexible-row"):
                yield Switch(False, id="flexible", disabled=True)
                yield Label(
                    "Flexible variants: any size in the URL (w=400,fit=cover); never for signed images",
                    id="flexible-label",
                )
            yield Static("Variants", classes="account-section")
            yield DataTable(id="variants", cursor_type="row", zebra_stripes=True)
            yield Static("Signing keys", classes="account-section")
            yield DataTable(id="keys", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"{safe_text(self.images.label)} · account"
        self.query_one("#variants", DataTable).add_columns(
            "Name", "Fit", "Box (px)", "Metadata", "Signed URLs"
        )
        self.query_one("#keys", DataTable).add_columns("Name", "Value")
        self._unsubscribe = self.cache.subscribe(self._show)
        if self.cache.cached is not None:
            self._show(self.cache.cached)
        self._load(refresh=False)

    def on_unmount(self) -> None:
        self._closed = True
        self._unsubscribe()

    # ----------------------------------------------------------------- reading

    @work(exclusive=True, group="account-read", exit_on_error=False)
    async def _load(self, refresh: bool) -> None:
        state = await self.cache.state(refresh=refresh)
        self._show(state)  # a cached state publishes nothing: show it here too

    def _show(self, state: AccountState) -> None:
        # Not `is_mounted`: that turns true only once on_mount has returned, and the read
        # worker can finish before it does (seen on Python 3.12), leaving "Reading…" forever.
        if self._closed:
            return
        self.state = state
        error = self.query_one("#account-error", Static)
        error.display = not state.available
        switch = self.query_one("#flexible", Switch)
        if not state.available:
            assert state.error is not None
            self.query_one("#account-usage", Static).update(
                Content.from_markup("[b]This library has no account settings to manage.[/b]")
            )
            error.update(plain(describe_failure(state.error), multiline=True))
            switch.disabled = True
        else:
            self.query_one("#account-usage", Static).update(usage_line(state.usage))
            with switch.prevent(Switch.Changed):
                switch.value = state.flexible_variants
            switch.disabled = False
        self._fill_variants(list(state.variants))
        self._fill_keys(list(state.keys))
        self.refresh_bindings()

    def _fill_variants(self, variants: list[Variant]) -> None:
        table = self.query_one("#variants", DataTable)
        current = self._highlighted(table)
        table.clear()
        for variant in variants:
            options = variant.options
            table.add_row(
                plain_text(variant.id),
                options.fit,
                f"{options.width}\u00d7{options.height}",
                options.metadata,
                "never required" if variant.never_require_signed_urls else "as the image says",
                key=variant.id,
            )
        self._restore(table, current)

    def _fill_keys(self, keys: list[SigningKey]) -> None:
        table = self.query_one("#keys", DataTable)
        current = self._highlighted(table)
        table.clear()
        for key in keys:
            table.add_row(plain_text(key.name), plain_text(masked(key.value)), key=key.name)
        self._restore(table, current)

    @staticmethod
    def _highlighted(table: DataTable) -> str | None:
        if table.row_count == 0:
            return None
        try:
            return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        except CellDoesNotExist:  # no row under the cursor: nothing to keep
            return None

    @staticmethod
    def _restore(table: DataTable, key: str | None) -> None:
        if key is None:
            return
        try:
            table.move_cursor(row=table.get_row_index(key))
        except RowDoesNotExist:  # that row is gone (deleted): the cursor stays put
            return

    # ----------------------------------------------------------------- actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in {"close", "refresh"}:
            return True
        if self.state is None or not self.state.available:
            return None  # shown greyed: this library cannot
        if action == "edit_variant":
            return self._variant() is not None or None
        if action == "delete":
            return self._delete_target() is not None or None
        return True

    def _variant(self) -> str | None:
        return self._highlighted(self.query_one("#variants", DataTable))

    def _delete_target(self) -> tuple[str, str] | None:
        """("variant" | "key", name) by where the focus is."""
        if self.focused is self.query_one("#keys", DataTable):
            key = self._highlighted(self.query_one("#keys", DataTable))
            return None if key is None else ("key", key)
        variant = self._variant()
        if variant is None or variant == PUBLIC_VARIANT:
            return None  # Cloudflare: the public variant cannot be deleted
        return ("variant", variant)

    def action_close(self) -> None:
        self.dismiss(None)

    def action_refresh(self) -> None:
        self._load(refresh=True)

    def action_new_variant(self) -> None:
        self.app.push_screen(VariantFormModal(self.images), callback=self._variant_saved)

    @on(DataTable.RowSelected, "#variants")
    def action_edit_variant(self) -> None:
        if self.state is None or (name := self._variant()) is None:
            return
        variant = self.state.variant(name)
        if variant is not None:
            self.app.push_screen(VariantFormModal(self.images, variant), callback=self._variant_saved)

    def _variant_saved(self, saved: Variant | None) -> None:
        if saved is None or self.state is None:
            return
        others = [variant for variant in self.state.variants if variant.id != saved.id]
        self.cache.set_variants([*others, saved])
        self._restore(self.query_one("#variants", DataTable), saved.id)
        self.notify(f"Variant {saved.id} saved", timeout=3, markup=False)

    def action_new_key(self) -> None:
        names = self.state.key_names if self.state else []
        self.app.push_screen(KeyFormModal(self.images, names), callback=self._keys_changed)

    def _keys_changed(self, keys: list[SigningKey] | None) -> None:
        if keys is not None:
            self.cache.set_keys(keys)
            self.notify("Signing keys updated", timeout=3, markup=False)

    def action_delete(self) -> None:
        target = self._delete_target()
        if target is None:
            if self._variant() == PUBLIC_VARIANT and self.focused is self.query_one("#variants"):
                self.notify("The public variant cannot be deleted.", severity="warning", markup=False)
            return
        kind, name = target
        if kind == "variant":

            async def delete_variant() -> list[Variant]:
                await self.images.account.variants.delete(name)
                return await self.images.account.variants.list()

            question = (
                f"Delete variant {name}? Every image's {name} URL stops working, on every image "
                "of the account."
            )
            self.app.push_screen(
                ConfirmActionModal("Delete variant", question, delete_variant), callback=self._variants_left
            )
            return

        async def delete_key() -> list[SigningKey]:
            return await self.images.account.keys.delete(name)

        question = f"Delete signing key {name}? URLs it signed stop working."
        if self.state is not None and len(self.state.keys) == 1:
            question += " It is the last key: the account makes a new `default` key."
        self.app.push_screen(
            ConfirmActionModal("Delete signing key", question, delete_key), callback=self._keys_changed
        )

    def _variants_left(self, variants: list[Variant] | None) -> None:
        if variants is not None:
            self.cache.set_variants(variants)
            self.notify("Variant deleted", timeout=3, markup=False)

    def action_toggle_flexible(self) -> None:
        switch = self.query_one("#flexible", Switch)
        if not switch.disabled:
            switch.toggle()  # Switch.Changed does the call

    @on(Switch.Changed, "#flexible")
    def _flexible_changed(self, event: Switch.Changed) -> None:
        event.switch.disabled = True  # one call at a time
        self._set_flexible(event.value)

    @work(exclusive=True, group="account-flexible", exit_on_error=False)
    async def _set_flexible(self, enabled: bool) -> None:
        switch = self.query_one("#flexible", Switch)
        try:
            settings = await self.images.account.settings.update(flexible_variants=enabled)
        except ImagesError as error:
            with switch.prevent(Switch.Changed):
                switch.value = not enabled  # as it still is
            switch.disabled = False
            self.notify(describe_failure(error), title="Failed", severity="error", timeout=8, markup=False)
            return
        self.cache.set_flexible_variants(settings.flexible_variants)
        switch.disabled = False
        state = "on" if settings.flexible_variants else "off"
        self.notify(f"Flexible variants {state}", timeout=3, markup=False)
