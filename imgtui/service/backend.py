"""What a backend implements. The `Images` facade validates arguments and reads upload
sources; a backend receives clean values and does the storage or the HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from .account import AccountBackend
from .filters import MetadataFilter
from .rules import SortOrder

if TYPE_CHECKING:  # annotations only: the protocol needs no pydantic to be imported
    from .models import Blob, FileInfo, ImageList, ImageMetadata


@dataclass(frozen=True, slots=True)
class UploadRequest:
    """A validated upload: the decoded bytes and the options, all checked by the facade."""

    data: bytes
    content_type: str  # sniffed from the bytes, e.g. "image/png"
    id: str | None
    filename: str | None
    require_signed_urls: bool
    metadata: dict[str, Any] | None
    creator: str | None
    width: int | None = None  # sniffed from the headers (None for SVG)
    height: int | None = None


@dataclass(frozen=True, slots=True)
class UpdateRequest:
    """A validated update; None means "leave as is". `metadata` replaces, never merges."""

    require_signed_urls: bool | None = None
    metadata: dict[str, Any] | None = None
    creator: str | None = None


@dataclass(frozen=True, slots=True)
class DirectUploadRequest:
    """A validated direct creator upload: the draft's options and when its URL expires."""

    id: str | None
    metadata: dict[str, Any] | None
    require_signed_urls: bool
    creator: str | None
    expiry: datetime  # aware, UTC


@dataclass(frozen=True, slots=True)
class DirectUpload:
    """The draft's id and the one-time URL that accepts its file (multipart `file`, no token)."""

    id: str
    upload_url: str


class Backend(Protocol):
    """One place images live: a local library, or a Cloudflare account over REST."""

    @property
    def label(self) -> str:
        """Where this backend points, for headers and logs (never a credential)."""
        ...

    @property
    def cache_key(self) -> str:
        """Exactly what is open, for naming its caches (catalogue, thumbnails): unlike the
        label, never shortened, so two accounts that share a label never share a cache.
        Never a credential."""
        ...

    @property
    def account(self) -> AccountBackend:
        """The account's variants, keys, settings and usage (`images.account`); a backend
        without them returns `service.account.UnsupportedAccount`."""
        ...

    async def upload(self, request: UploadRequest) -> ImageMetadata: ...

    async def list(
        self,
        *,
        limit: int,
        cursor: str | None,
        sort_order: SortOrder,
        creator: str | None,
        metadata_filter: MetadataFilter | None = None,
    ) -> ImageList:
        """A page; `metadata_filter` conditions all hold (a backend that cannot honour one
        raises 5400, never answers unfiltered)."""
        ...

    async def details(self, image_id: str) -> ImageMetadata | None: ...

    async def create_direct_upload(self, request: DirectUploadRequest) -> DirectUpload:
        """A draft record (`draft: true`) and its upload URL."""
        ...

    async def bytes(self, image_id: str) -> AsyncIterator[bytes] | None: ...

    async def update(self, image_id: str, request: UpdateRequest) -> ImageMetadata: ...

    async def delete(self, image_id: str) -> bool: ...

    async def signed_url(self, image_id: str, variant: str, expires_in: int | None) -> str: ...

    async def file_info(self, image_id: str) -> tuple[ImageMetadata, FileInfo | None] | None:
        """The record and, when the backend keeps it, the stored file's format, size and
        dimensions (None for Cloudflare, whose API does not say); None when missing."""
        ...

    async def aclose(self) -> None: ...


class ServedLibrary(Protocol):
    """What `imgtui serve` needs from the library it serves, beyond `Backend`: the whole
    bytes, the v1 offset list, the count, and the library's own keys."""

    async def account_hash(self) -> str: ...

    async def complete_direct_upload(self, upload_key: str, request: UploadRequest) -> ImageMetadata:
        """The file for the draft whose upload URL ends in `upload_key` (once, before expiry)."""
        ...

    async def signing_key(self) -> str: ...

    async def count(self) -> int: ...

    async def blob(self, image_id: str) -> Blob | None: ...

    async def list_offset(
        self, *, offset: int, limit: int, sort_order: SortOrder, creator: str | None
    ) -> list[ImageMetadata]:
        """For the deprecated v1 list (page/per_page); creator "" selects images without one."""
        ...
