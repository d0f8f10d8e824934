"""`LocalBackend`: the images service over a library directory on this machine."""

from __future__ import annotations

import builtins
import secrets
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import imgtui.backends.local.schema as schema
import imgtui.backends.local.store as store
from imgtui.service.backend import DirectUpload, DirectUploadRequest, UpdateRequest, UploadRequest
from imgtui.service.config import DEFAULT_DELIVERY_BASE
from imgtui.service.errors import ErrorCode, ImagesError
from imgtui.service.filters import MetadataFilter
from imgtui.service.rules import SortOrder
from imgtui.service.signing import CDN_PREFIX, UPLOAD_PREFIX, sign_url

from . import account
from .account import LocalAccount
from .cursor import decode_cursor, encode_cursor, listing_scope
from .reserve import SpaceReserve, keeping_reserve, using_reserve_on_full_disk
from .worker import ConnectionWorker

if TYPE_CHECKING:  # the models (pydantic) are imported where a page is made, not to open
    from imgtui.service.models import Blob, FileInfo, ImageList, ImageMetadata

__all__ = ["CHUNK_BYTES", "DEFAULT_DELIVERY_BASE", "READ_BYTES", "LocalBackend"]

CHUNK_BYTES = 256 * 1024  # what `bytes()` yields
# What one trip to the reader thread fetches. Each blob open walks the blob's overflow-page
# chain from its start, so fewer, larger reads keep streaming linear in practice (10 MiB:
# ~10 ms instead of ~40 ms with one open per 256 KiB), at 1 MiB of memory per stream.
READ_BYTES = 1024 * 1024
T = TypeVar("T")


class LocalBackend:
    """A persistent library in directory `root`: SQLite (WAL) holding records and bytes.

    The constructor does no I/O; the library is opened (and created) on the first call, on
    a worker thread. Writes go through one thread and connection, reads through another, so
    a long upload never holds up a list. Several processes may open the same library.

    Seams (tests, reproducible screenshots): `clock()` gives upload times in ms since the
    epoch, `new_id()` the generated ids, `new_secret(nbytes)` a new library's account hash
    and signing key. Signed-URL expiry keeps the real time: the server checks it so.
    """

    def __init__(
        self,
        root: Path,
        *,
        delivery_base: str | None = None,
        clock: store.Clock | None = None,
        new_id: store.IdFactory | None = None,
        new_secret: schema.SecretFactory | None = None,
    ) -> None:
        self.root = Path(root)
        # Read at every call: `imgtui serve` may set it to its own address before first use.
        self.delivery_base = delivery_base or DEFAULT_DELIVERY_BASE
        self._clock = clock or store.now_ms
        self._new_id = new_id or store.new_uuid
        self._keys: schema.LibraryKeys | None = None
        # Disk space kept so deletes work on a full disk (see reserve.py); writer thread only.
        self._reserve = SpaceReserve(self.root)
        self._new_secret = new_secret
        self._writer = ConnectionWorker("imgtui-lib-write", self._open_writer, self.root)
        self._reader = ConnectionWorker(
            "imgtui-lib-read", partial(schema.connect, self.root, writer=False), self.root
        )

    def __repr__(self) -> str:
        return f"LocalBackend({str(self.root)!r})"

    def _open_writer(self) -> sqlite3.Connection:
        conn = schema.connect(self.root, writer=True, new_secret=self._new_secret)
        self._reserve.ensure()
        return conn

    @property
    def label(self) -> str:
        return f"local library {self.root}"

    @property
    def cache_key(self) -> str:
        return f"local library {self.root}"  # the label already holds the whole path

    @property
    def account(self) -> LocalAccount:
        return LocalAccount(self)

    def new_key_value(self) -> str:
        """A new signing key's value (the `new_secret` seam, like the library's first key)."""
        return (self._new_secret or secrets.token_urlsafe)(32)

    async def read(self, query: Callable[..., T], *args: Any) -> T:
        """`query(conn, *args)` on the reader thread, once the library exists."""
        await self._library_keys()
        return await self._reader.run(query, *args)

    async def write(self, change: Callable[..., T], *args: Any) -> T:
        """`change(conn, *args)` on the writer thread (which keeps the disk-space reserve)."""
        await self._library_keys()
        return await self._writer.run(keeping_reserve(self._reserve, change), *args)

    async def _library_keys(self) -> schema.LibraryKeys:
        # The writer opens first, so the schema exists before any reader connects.
        if self._keys is None:
            self._keys = await self._writer.run(schema.load_keys)
        return self._keys

    async def _delivery(self) -> store.Delivery:
        keys = await self._library_keys()
        return store.Delivery(self.delivery_base, keys.account_hash)

    # -- the Backend protocol ------------------------------------------------------------

    async def upload(self, request: UploadRequest) -> ImageMetadata:
        return await self._writer.run(
            keeping_reserve(self._reserve, store.insert_image),
            request,
            await self._delivery(),
            self._clock,
            self._new_id,
        )

    async def list(
        self,
        *,
        limit: int,
        cursor: str | None,
        sort_order: SortOrder,
        creator: str | None,
        metadata_filter: MetadataFilter | None = None,
    ) -> ImageList:
        keys = await self._library_keys()
        scope = listing_scope(creator, metadata_filter)  # a cursor is good for this listing only
        after = None if cursor is None else decode_cursor(keys.cursor_secret, cursor, sort_order, scope)
        images, next_seq = await self._reader.run(
            partial(
                store.list_page,
                after_seq=after,
                limit=limit,
                sort_order=sort_order,
                creator=creator,
                delivery=await self._delivery(),
                metadata_filter=metadata_filter,
            )
        )
        from imgtui.service.models import ImageList

        if next_seq is None:
            return ImageList(images=images, cursor=None, list_complete=True)
        token = encode_cursor(keys.cursor_secret, next_seq, sort_order, scope)
        return ImageList(images=images, cursor=token, list_complete=False)

    async def create_direct_upload(self, request: DirectUploadRequest) -> DirectUpload:
        upload_key = secrets.token_urlsafe(24)
        draft = await self._writer.run(
            keeping_reserve(self._reserve, store.insert_draft),
            request,
            upload_key,
            await self._delivery(),
            self._clock,
            self._new_id,
        )
        # Served by `imgtui serve` next to delivery: <origin>/cdn-cgi/imageupload/<hash>/<key>.
        origin = self.delivery_base.rstrip("/").removesuffix(CDN_PREFIX)
        keys = await self._library_keys()
        return DirectUpload(draft.id, f"{origin}{UPLOAD_PREFIX}/{keys.account_hash}/{upload_key}")

    async def complete_direct_upload(self, upload_key: str, request: UploadRequest) -> ImageMetadata:
        return await self._writer.run(
            keeping_reserve(self._reserve, store.complete_draft),
            upload_key,
            request,
            await self._delivery(),
            int(time.time() * 1000),  # expiry keeps the real time, like signed URLs
        )

    async def details(self, image_id: str) -> ImageMetadata | None:
        return await self._reader.run(store.get_metadata, image_id, await self._delivery())

    async def bytes(self, image_id: str) -> AsyncIterator[bytes] | None:
        await self._library_keys()
        location = await self._reader.run(store.blob_location, image_id)
        if location is None:
            return None
        return self._stream(*location)

    async def _stream(self, seq: int, size: int) -> AsyncIterator[builtins.bytes]:
        for offset in range(0, size, READ_BYTES):
            block = await self._reader.run(store.read_blob_chunk, seq, offset, READ_BYTES)
            for start in range(0, len(block), CHUNK_BYTES):
                yield block[start : start + CHUNK_BYTES]

    async def update(self, image_id: str, request: UpdateRequest) -> ImageMetadata:
        return await self._writer.run(
            keeping_reserve(self._reserve, store.update_image), image_id, request, await self._delivery()
        )

    async def delete(self, image_id: str) -> bool:
        await self._library_keys()
        return await self._writer.run(using_reserve_on_full_disk(self._reserve, store.delete_image), image_id)

    async def signed_url(self, image_id: str, variant: str, expires_in: int | None) -> str:
        keys = await self._library_keys()
        if await self.details(image_id) is None:
            raise ImagesError(ErrorCode.NOT_FOUND, "Image not found")
        url = store.Delivery(self.delivery_base, keys.account_hash).variant_url(image_id, variant)
        expires_at = None if expires_in is None else int(time.time()) + expires_in
        key = await self._reader.run(account.current_key)
        return sign_url(url, key.value, expires_at=expires_at)

    async def file_info(self, image_id: str) -> tuple[ImageMetadata, FileInfo | None] | None:
        return await self._reader.run(store.get_file_info, image_id, await self._delivery())

    async def aclose(self) -> None:
        try:
            await self._reader.aclose()
        finally:
            await self._writer.aclose()

    # -- ServedLibrary: what `imgtui serve` needs -----------------------------------------

    async def account_hash(self) -> str:
        return (await self._library_keys()).account_hash

    async def signing_key(self) -> str:
        return (await self._library_keys()).signing_key

    async def count(self) -> int:
        await self._library_keys()
        return await self._reader.run(store.count_images)

    async def blob(self, image_id: str) -> Blob | None:
        """The whole original bytes and their content type, or None when missing."""
        await self._library_keys()
        return await self._reader.run(store.read_blob, image_id)

    async def list_offset(
        self, *, offset: int, limit: int, sort_order: SortOrder, creator: str | None
    ) -> builtins.list[ImageMetadata]:
        """For the deprecated v1 list (page/per_page); creator "" selects images without one."""
        if offset < 0 or limit < 0:
            raise ImagesError(ErrorCode.BAD_REQUEST, "offset and limit must not be negative")
        delivery = await self._delivery()
        return await self._reader.run(
            partial(
                store.list_by_offset,
                offset=offset,
                limit=limit,
                sort_order=sort_order,
                creator=creator,
                delivery=delivery,
            )
        )

    async def fill_unchecked(self, rows: builtins.list[tuple[str, builtins.bytes, str | None]]) -> None:
        """BENCHMARK FILL ONLY (see store.bulk_insert_unchecked): no checks, one transaction."""
        await self._library_keys()
        await self._writer.run(store.bulk_insert_unchecked, rows, self._clock)
