"""The library's account objects: named variants, the signing key, the settings, usage.

SQL functions run on the library's worker threads (writes on the writer); `LocalAccount`
is what `images.account` talks to.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from imgtui.service.account import MAX_VARIANTS, AccountSettings, SigningKey, Usage, Variant, VariantOptions
from imgtui.service.errors import ErrorCode, ImagesError

from .schema import FLEXIBLE_VARIANTS_KEY, write_transaction

T = TypeVar("T")


class _Library(Protocol):
    """What the account needs of `LocalBackend` (a protocol: backend.py imports this module)."""

    async def read(self, query: Callable[..., T], *args: Any) -> T: ...

    async def write(self, change: Callable[..., T], *args: Any) -> T: ...

    def new_key_value(self) -> str: ...

    async def count(self) -> int: ...


IMAGES_ALLOWED = 100_000  # what the usage reports as the plan's allowance

_COLUMNS = "id, fit, width, height, metadata, never_require_signed_urls"


def _variant(row: tuple) -> Variant:
    variant_id, fit, width, height, metadata, never = row
    return Variant(variant_id, VariantOptions(fit, width, height, metadata), bool(never))


def variant_not_found() -> ImagesError:
    return ImagesError(ErrorCode.NOT_FOUND, "Variant not found")


def list_variants(conn: sqlite3.Connection) -> list[Variant]:
    return [_variant(row) for row in conn.execute(f"SELECT {_COLUMNS} FROM variants ORDER BY id")]


def get_variant(conn: sqlite3.Connection, variant_id: str) -> Variant | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM variants WHERE id = ?", (variant_id,)).fetchone()
    return None if row is None else _variant(row)


def _row(variant: Variant) -> tuple[object, ...]:
    options = variant.options
    return (
        variant.id,
        options.fit,
        options.width,
        options.height,
        options.metadata,
        int(variant.never_require_signed_urls),
    )


def insert_variant(conn: sqlite3.Connection, variant: Variant) -> Variant:
    with write_transaction(conn):
        if conn.execute("SELECT 1 FROM variants WHERE id = ?", (variant.id,)).fetchone():
            raise ImagesError(ErrorCode.ALREADY_EXISTS, f"Variant {variant.id!r} already exists")
        if conn.execute("SELECT count(*) FROM variants").fetchone()[0] >= MAX_VARIANTS:
            raise ImagesError(ErrorCode.BAD_REQUEST, f"An account has at most {MAX_VARIANTS} variants")
        conn.execute(f"INSERT INTO variants ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)", _row(variant))
    return variant


def update_variant(
    conn: sqlite3.Connection, variant_id: str, options: VariantOptions, never: bool | None
) -> Variant:
    with write_transaction(conn):
        found = get_variant(conn, variant_id)
        if found is None:
            raise variant_not_found()
        updated = Variant(variant_id, options, found.never_require_signed_urls if never is None else never)
        conn.execute(
            "UPDATE variants SET fit = ?, width = ?, height = ?, metadata = ?, never_require_signed_urls = ?"
            " WHERE id = ?",
            (*_row(updated)[1:], variant_id),
        )
    return updated


def delete_variant(conn: sqlite3.Connection, variant_id: str) -> None:
    with write_transaction(conn):
        if conn.execute("DELETE FROM variants WHERE id = ?", (variant_id,)).rowcount == 0:
            raise variant_not_found()


def list_keys(conn: sqlite3.Connection) -> list[SigningKey]:
    return [
        SigningKey(name, value)
        for name, value in conn.execute("SELECT name, value FROM signing_keys ORDER BY name")
    ]


def current_key(conn: sqlite3.Connection) -> SigningKey:
    """The key a signed URL is made with when none is named: `default`, else the first."""
    keys = list_keys(conn)
    return next((key for key in keys if key.name == "default"), keys[0])


def put_key(conn: sqlite3.Connection, name: str, value: str) -> list[SigningKey]:
    with write_transaction(conn):
        conn.execute("INSERT OR REPLACE INTO signing_keys (name, value) VALUES (?, ?)", (name, value))
    return list_keys(conn)


def delete_key(conn: sqlite3.Connection, name: str, replacement: str) -> list[SigningKey]:
    with write_transaction(conn):
        if conn.execute("DELETE FROM signing_keys WHERE name = ?", (name,)).rowcount == 0:
            raise ImagesError(ErrorCode.NOT_FOUND, "Signing key not found")
        if not conn.execute("SELECT 1 FROM signing_keys").fetchone():  # never without a key
            conn.execute("INSERT INTO signing_keys (name, value) VALUES ('default', ?)", (replacement,))
    return list_keys(conn)


def read_settings(conn: sqlite3.Connection) -> AccountSettings:
    row = conn.execute("SELECT value FROM settings WHERE key = ?", (FLEXIBLE_VARIANTS_KEY,)).fetchone()
    return AccountSettings(flexible_variants=row is not None and row[0] == "1")


def write_settings(conn: sqlite3.Connection, flexible_variants: bool) -> AccountSettings:
    with write_transaction(conn):
        conn.execute(
            "INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)",
            (FLEXIBLE_VARIANTS_KEY, "1" if flexible_variants else "0"),
        )
    return AccountSettings(flexible_variants=flexible_variants)


class LocalAccount:
    """`images.account` over a local library: reads on the reader thread, writes on the writer."""

    def __init__(self, backend: _Library) -> None:
        self._backend = backend

    async def list_variants(self) -> list[Variant]:
        return await self._backend.read(list_variants)

    async def get_variant(self, variant_id: str) -> Variant | None:
        return await self._backend.read(get_variant, variant_id)

    async def create_variant(self, variant: Variant) -> Variant:
        return await self._backend.write(insert_variant, variant)

    async def update_variant(
        self, variant_id: str, options: VariantOptions, never_require_signed_urls: bool | None
    ) -> Variant:
        return await self._backend.write(update_variant, variant_id, options, never_require_signed_urls)

    async def delete_variant(self, variant_id: str) -> None:
        await self._backend.write(delete_variant, variant_id)

    async def list_signing_keys(self) -> list[SigningKey]:
        return await self._backend.read(list_keys)

    async def create_signing_key(self, name: str) -> list[SigningKey]:
        return await self._backend.write(put_key, name, self._backend.new_key_value())

    async def delete_signing_key(self, name: str) -> list[SigningKey]:
        return await self._backend.write(delete_key, name, self._backend.new_key_value())

    async def get_settings(self) -> AccountSettings:
        return await self._backend.read(read_settings)

    async def update_settings(self, *, flexible_variants: bool) -> AccountSettings:
        return await self._backend.write(write_settings, flexible_variants)

    async def usage(self) -> Usage:
        return Usage(current=await self._backend.count(), allowed=IMAGES_ALLOWED)
