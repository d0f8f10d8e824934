"""What the TUI knows of the account (variants, signing keys, flexible variants, usage), read
once per session and shared by every screen.

The details panel, the copy menu, the signed-URL form and the header all ask this cache, so
the account is read once, not once per keypress; the account screen writes its changes back
into it (`set_variants`, `set_keys`, ...) and every listener is told. A backend without
account objects (wrangler's read-only store) is remembered as `unavailable` with the reason
it gave, and the callers fall back to what each image's own record says.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from imgtui.service import ErrorCode, Images, ImagesError
from imgtui.service.account import SigningKey, Usage, Variant

if TYPE_CHECKING:  # a pydantic model: annotations only
    from imgtui.service import ImageMetadata

Listener = Callable[["AccountState"], object]


@dataclass(frozen=True, slots=True)
class AccountState:
    """One reading of the account. `error` is set (and the rest empty) when it could not be read."""

    variants: tuple[Variant, ...] = ()
    keys: tuple[SigningKey, ...] = ()
    flexible_variants: bool = False
    usage: Usage | None = None
    error: ImagesError | None = None

    @property
    def available(self) -> bool:
        return self.error is None

    @property
    def variant_names(self) -> list[str]:
        return [variant.id for variant in self.variants]

    @property
    def key_names(self) -> list[str]:
        return [key.name for key in self.keys]

    def variant(self, name: str) -> Variant | None:
        return next((variant for variant in self.variants if variant.id == name), None)


def quota_text(usage: Usage | None) -> str:
    """`1,234 / 100,000 images` for the header; empty when unknown."""
    if usage is None:
        return ""
    return f"{usage.current:,} / {usage.allowed:,} images"


class AccountCache:
    """The session's reading of `images.account`; `state()` reads it on first use only."""

    def __init__(self, images: Images) -> None:
        self._images = images
        self._state: AccountState | None = None
        self._lock = asyncio.Lock()  # two callers at once make one reading, not two
        self._listeners: list[Listener] = []

    @property
    def cached(self) -> AccountState | None:
        """The last reading, without asking the backend (None before the first)."""
        return self._state

    async def state(self, *, refresh: bool = False) -> AccountState:
        async with self._lock:
            if self._state is None or refresh:
                self._publish(await self._read())
            assert self._state is not None
            return self._state

    async def _read(self) -> AccountState:
        try:
            account = self._images.account
        except AttributeError:  # a backend written before account objects (test doubles)
            return AccountState(
                error=ImagesError(ErrorCode.BAD_REQUEST, "This library has no account objects")
            )
        try:
            variants = await account.variants.list()
            keys = await account.keys.list()
            settings = await account.settings.get()
        except ImagesError as error:
            return AccountState(error=error)
        try:
            usage: Usage | None = await account.stats()
        except ImagesError:
            usage = None  # the rest is still worth showing; the header just has no quota
        return AccountState(tuple(variants), tuple(keys), settings.flexible_variants, usage)

    async def refresh_usage(self) -> Usage | None:
        """Read only the usage again (after uploads or deletes): one cheap call."""
        try:
            usage = await self._images.account.stats()
        except ImagesError:
            return None
        self.set_usage(usage)
        return usage

    # -- changes the account screen made -------------------------------------------------

    def set_variants(self, variants: list[Variant]) -> None:
        self._change(variants=tuple(sorted(variants, key=lambda variant: variant.id)))

    def set_keys(self, keys: list[SigningKey]) -> None:
        self._change(keys=tuple(keys))

    def set_flexible_variants(self, enabled: bool) -> None:
        self._change(flexible_variants=enabled)

    def set_usage(self, usage: Usage) -> None:
        self._change(usage=usage)

    def count_changed(self, delta: int) -> None:
        """Images were added (delta > 0) or deleted: adjust the known count without a request."""
        state = self._state
        if state is None or state.usage is None or delta == 0:
            return
        current = max(0, state.usage.current + delta)
        self.set_usage(Usage(current=current, allowed=state.usage.allowed))

    def _change(self, **changes: object) -> None:
        if self._state is None or not self._state.available:
            return  # nothing read yet: the first reading will see the change
        self._publish(replace(self._state, **changes))  # type: ignore[arg-type]  # fields by name

    # -- listeners -------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(state)` after every change; returns the unsubscribe function."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _publish(self, state: AccountState) -> None:
        self._state = state
        for listener in list(self._listeners):
            listener(state)


@dataclass(frozen=True, slots=True)
class VariantRow:
    name: str
    url: str
    box: str  # "cover 320x240", or "" when the account did not say
    signed: bool  # this URL needs a signature (the image is private, the variant does not waive it)


def variant_rows(image: ImageMetadata, account: AccountState | None) -> list[VariantRow]:
    """One row per variant of the account (its real list, when it could be read), with this
    image's delivery URL for it; else one per URL the image's record lists."""
    by_name = {variant_name(url): url for url in image.variants}
    if account is None or not account.variants or not image.variants:
        return [VariantRow(name, url, "", image.require_signed_urls) for name, url in by_name.items()]
    prefix = image.variants[0].rsplit("/", 1)[0]
    rows: list[VariantRow] = []
    for variant in account.variants:
        options = variant.options
        rows.append(
            VariantRow(
                variant.id,
                by_name.get(variant.id, f"{prefix}/{variant.id}"),
                f"{options.fit} {options.width}\u00d7{options.height}",
                image.require_signed_urls and not variant.never_require_signed_urls,
            )
        )
    return rows


def variant_name(url: str) -> str:
    """The variant a delivery URL names: its last path segment (`…/<id>/<variant>`)."""
    return url.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]


_CACHES: weakref.WeakKeyDictionary[Images, AccountCache] = weakref.WeakKeyDictionary()


def account_cache(images: Images) -> AccountCache:
    """The one cache of this service (a session has one `Images`; a test makes its own)."""
    cache = _CACHES.get(images)
    if cache is None:
        cache = _CACHES[images] = AccountCache(images)
    return cache
