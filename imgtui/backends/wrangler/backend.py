"""`WranglerBackend`: the images a Worker stored under `wrangler dev`, read-only.

Every call reads the state afresh on a thread (asyncio.to_thread): a read-only SQLite
connection for one statement, then the blob file. Nothing is written and no lock is kept, so
it is safe while `wrangler dev` runs. Writes are refused with the way out: `imgtui cp`.
"""

from __future__ import annotations

import asyncio
import builtins
import os
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import BinaryIO, NoReturn, TypeVar

from imgtui.service.account import AccountBackend, UnsupportedAccount
from imgtui.service.backend import DirectUpload, DirectUploadRequest, UpdateRequest, UploadRequest
from imgtui.service.errors import ErrorCode, ImagesError
from imgtui.service.filters import MetadataFilter, matches
from imgtui.service.models import FileInfo, ImageList, ImageMetadata
from imgtui.service.rules import SortOrder

from . import store
from .listing import page

T = TypeVar("T")
CHUNK_BYTES = 256 * 1024  # what `bytes()` yields, as the local library does


class WranglerBackend:
    """`root`: a Worker project folder, its `.wrangler/state`, or `.wrangler/state/v3/images`.
    The constructor does no I/O; a missing or changed layout fails the first call clearly."""

    def __init__(self, root: str | os.PathLike[str] = ".") -> None:
        self.root = Path(root).expanduser().absolute()

    def __repr__(self) -> str:
        return f"WranglerBackend({str(self.root)!r})"

    @property
    def label(self) -> str:
        return f"wrangler dev state {self.root} (read-only)"

    @property
    def cache_key(self) -> str:
        return f"wrangler dev state {self.root}"

    async def _run(self, fn: Callable[..., T], *args: object) -> T:
        try:
            return await asyncio.to_thread(fn, self.root, *args)
        except ImagesError:
            raise
        except sqlite3.Error as exc:
            detail = "wrangler dev kept it locked; try again" if "locked" in str(exc) else str(exc)
            raise ImagesError(ErrorCode.STORAGE, f"wrangler dev state {self.root}: {detail}") from None
        except OSError as exc:
            detail = exc.strerror or type(exc).__name__
            where = exc.filename or self.root
            raise ImagesError(
                ErrorCode.STORAGE, f"wrangler dev state: cannot read {where} ({detail})"
            ) from None

    def _refuse_write(self) -> NoReturn:
        raise ImagesError(
            ErrorCode.BAD_REQUEST,
            f"The wrangler dev state {self.root} is read-only in imgtui: copy it to a local library"
            f" with `imgtui cp wrangler:{self.root} local:PATH` and change it there",
        )

    # -- reads ---------------------------------------------------------------------------

    @property
    def account(self) -> AccountBackend:
        return UnsupportedAccount(self.label)  # wrangler's mock keeps no variants or keys

    async def list(
        self,
        *,
        limit: int,
        cursor: str | None,
        sort_order: SortOrder,
        creator: str | None,
        metadata_filter: MetadataFilter | None = None,
    ) -> ImageList:
        entries = await self._run(store.read_entries)
        if metadata_filter is not None:  # the service's reference semantics, over every entry
            entries = [entry for entry in entries if matches(entry.image.meta, metadata_filter)]
        return page(entries, limit=limit, cursor=cursor, sort_order=sort_order, creator=creator)

    async def details(self, image_id: str) -> ImageMetadata | None:
        return await self._run(store.read_entry, image_id)

    async def file_info(self, image_id: str) -> tuple[ImageMetadata, FileInfo | None] | None:
        return await self._run(store.read_file_info, image_id)

    async def bytes(self, image_id: str) -> AsyncIterator[bytes] | None:
        opened = await self._run(store.open_image, image_id)
        if opened is None:
            return None
        return self._stream(opened[1])

    async def _stream(self, blob: BinaryIO) -> AsyncIterator[builtins.bytes]:
        # The file was opened before returning, so a delete meanwhile does not cut the stream.
        try:
            while chunk := await asyncio.to_thread(blob.read, CHUNK_BYTES):
                yield chunk
        finally:
            blob.close()

    async def signed_url(self, image_id: str, variant: str, expires_in: int | None) -> str:
        raise ImagesError(
            ErrorCode.BAD_REQUEST,
            "wrangler dev's local images have no signing key: the mock serves every image unsigned,"
            " so there is no signed URL to make (Cloudflare signs them for a real account)",
        )

    # -- writes, refused -----------------------------------------------------------------

    async def upload(self, request: UploadRequest) -> ImageMetadata:
        self._refuse_write()

    async def update(self, image_id: str, request: UpdateRequest) -> ImageMetadata:
        self._refuse_write()

    async def create_direct_upload(self, request: DirectUploadRequest) -> DirectUpload:
        self._refuse_write()

    async def delete(self, image_id: str) -> bool:
        self._refuse_write()

    async def aclose(self) -> None:
        """Nothing to close: no connection or file outlives a call (an unfinished `bytes()`
        stream closes its file when it is closed or collected)."""
