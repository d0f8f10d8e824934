"""`Images`: the async client service, shaped like the Workers binding's `env.IMAGES.hosted`.

The facade owns argument validation and upload-source reading, so every backend sees
the same clean requests and answers the same errors (the conformance suite relies on it).
"""

from __future__ import annotations

import builtins
import os
import pathlib
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Self

from .account import Account, check_key_name
from .backend import Backend, DirectUpload, DirectUploadRequest, UpdateRequest, UploadRequest
from .config import ACCOUNT_ENV, BASE_URL_ENV, CLOUDFLARE_API, DEFAULT_LIST_LIMIT, TOKEN_ENV
from .errors import ErrorCode, ImagesError, signed_urls_with_custom_id
from .filters import MetadataFilter, check_metadata_filter
from .registry import create as create_backend
from .rules import (
    MAX_ID_CHARS,
    SortOrder,
    check_creator,
    check_creator_filter,
    check_custom_id,
    check_direct_upload_expiry,
    check_filename,
    check_list_limit,
    check_metadata,
    check_require_signed_urls,
    check_sort_order,
)
from .signing import sign_url, signed_expiry
from .spec import SERVE_ACCOUNT_ID, parse_spec

if TYPE_CHECKING:  # the facade only passes the backends' models along: pydantic not needed here
    from .models import FileInfo, ImageList, ImageMetadata

# Reading and sniffing an upload's bytes (sources.py, sniff.py) is imported by the first
# upload: browsing never needs it.

# Re-exported: older code imports these names from here (they live in config.py now).
__all__ = [
    "ACCOUNT_ENV",
    "BASE_URL_ENV",
    "CLOUDFLARE_API",
    "DEFAULT_LIST_LIMIT",
    "TOKEN_ENV",
    "HostedImages",
    "ImageHandle",
    "Images",
]


def _default_filename(source: Any, extension: str) -> str:
    if isinstance(source, pathlib.PurePath):
        return source.name
    name = getattr(source, "name", None)
    if isinstance(name, str) and name and not name.startswith("<"):
        return os.path.basename(name)
    return f"image.{extension}"


def _plausible_id(image_id: object) -> bool:
    """Could this id name an image at all? If not, it is simply not found."""
    return (
        isinstance(image_id, str)
        and 1 <= len(image_id) <= MAX_ID_CHARS
        and not image_id.startswith("/")
        and not image_id.endswith("/")
    )


class ImageHandle:
    """`images.hosted.image(id)`: operations on one image. Creating it does no I/O."""

    def __init__(self, backend: Backend, image_id: str) -> None:
        self._backend = backend
        self.id = image_id

    def __repr__(self) -> str:
        return f"ImageHandle(id={self.id!r})"

    async def details(self) -> ImageMetadata | None:
        if not _plausible_id(self.id):
            return None
        return await self._backend.details(self.id)

    async def file_info(self) -> tuple[ImageMetadata, FileInfo | None] | None:
        """The record and the stored file's format, size and dimensions when the backend
        keeps them (a local library does; Cloudflare answers the record and None)."""
        if not _plausible_id(self.id):
            return None
        return await self._backend.file_info(self.id)

    async def bytes(self) -> AsyncIterator[bytes] | None:
        """The original bytes as an async stream, or None when the image is missing."""
        if not _plausible_id(self.id):
            return None
        return await self._backend.bytes(self.id)

    async def read(self) -> builtins.bytes | None:
        """Convenience: all of `bytes()` joined (at most 10 MiB by Cloudflare's limit)."""
        stream = await self.bytes()
        if stream is None:
            return None
        return b"".join([chunk async for chunk in stream])

    async def update(
        self,
        *,
        require_signed_urls: bool | None = None,
        metadata: dict[str, Any] | None = None,
        creator: str | None = None,
    ) -> ImageMetadata:
        """Change the given fields; `metadata` replaces the old value, never merges."""
        if not _plausible_id(self.id):
            raise ImagesError(ErrorCode.NOT_FOUND, "Image not found")
        request = UpdateRequest(
            require_signed_urls=None
            if require_signed_urls is None
            else check_require_signed_urls(require_signed_urls),
            metadata=None if metadata is None else check_metadata(metadata),
            creator=None if creator is None else check_creator(creator),
        )
        return await self._backend.update(self.id, request)

    async def delete(self) -> bool:
        if not _plausible_id(self.id):
            return False
        return await self._backend.delete(self.id)

    async def signed_url(
        self, variant: str = "public", expires_in: int | None = None, key_name: str | None = None
    ) -> str:
        """A delivery URL signed with the account's key (`exp` only when expires_in is given),
        or with the signing key `key_name` (5404 when the account has none by that name)."""
        if key_name is not None:
            check_key_name(key_name)
        if not isinstance(variant, str) or not variant or any(ch in variant for ch in "/?#%"):
            raise ImagesError(ErrorCode.BAD_REQUEST, "variant must be a non-empty name without '/?#%'")
        if expires_in is not None and (
            isinstance(expires_in, bool) or not isinstance(expires_in, int) or expires_in <= 0
        ):
            raise ImagesError(ErrorCode.BAD_REQUEST, "expires_in must be a positive number of seconds")
        if not _plausible_id(self.id):
            raise ImagesError(ErrorCode.NOT_FOUND, "Image not found")
        url = await self._backend.signed_url(self.id, variant, expires_in)
        if key_name is None:
            return url
        keys = {key.name: key.value for key in await self._backend.account.list_signing_keys()}
        if key_name not in keys:
            raise ImagesError(ErrorCode.NOT_FOUND, f"The account has no image signing key named {key_name!r}")
        # The same URL and expiry, signed again with the named key (the Backend contract signs
        # with the account's current key only).
        return sign_url(url, keys[key_name], expires_at=signed_expiry(url))


class HostedImages:
    """`images.hosted`: upload, list, and per-image handles."""

    def __init__(self, backend: Backend) -> None:
        self._backend = backend

    async def upload(
        self,
        image: Any,
        *,
        id: str | None = None,  # noqa: A002 - the binding's name
        filename: str | None = None,
        require_signed_urls: bool | None = None,
        metadata: dict[str, Any] | None = None,
        creator: str | None = None,
        encoding: str | None = None,
    ) -> ImageMetadata:
        # Cheap argument checks first, so a bad call never reads a large source.
        if id is not None:
            check_custom_id(id)
        signed = False if require_signed_urls is None else check_require_signed_urls(require_signed_urls)
        if signed and id is not None:
            raise signed_urls_with_custom_id()
        clean_metadata = None if metadata is None else check_metadata(metadata)
        clean_creator = None if creator is None else check_creator(creator)
        if filename is not None:
            check_filename(filename)
        from .sniff import sniff_image_async
        from .sources import load_image_bytes

        data = await load_image_bytes(image, encoding)
        info = await sniff_image_async(data)
        request = UploadRequest(
            data=data,
            content_type=info.mime,
            id=id,
            filename=filename
            if filename is not None
            else check_filename(_default_filename(image, info.extension)),
            require_signed_urls=signed,
            metadata=clean_metadata,
            creator=clean_creator,
            width=info.width,
            height=info.height,
        )
        return await self._backend.upload(request)

    async def list(
        self,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        sort_order: SortOrder = "asc",
        creator: str | None = None,
        metadata_filter: MetadataFilter | Mapping[str, Mapping[str, Any]] | None = None,
    ) -> ImageList:
        """A page of images. `metadata_filter` keeps those whose metadata satisfies every
        condition: `{"status": {"eq": "active"}, "rating": {"gte": 4}, "a.b": {"in": ["x", "y"]}}`
        (operators eq, in, gt, gte, lt, lte; nested fields as dotted paths; bad filters 5400)."""
        clean_limit = DEFAULT_LIST_LIMIT if limit is None else check_list_limit(limit)
        clean_filter = check_metadata_filter(metadata_filter)
        order = check_sort_order(sort_order)
        if cursor is not None and (not isinstance(cursor, str) or not cursor):
            raise ImagesError(ErrorCode.BAD_REQUEST, "Invalid cursor")
        if creator is not None:
            check_creator_filter(creator)
        if clean_filter is None:  # the original call: backends (and doubles) written before filters
            return await self._backend.list(
                limit=clean_limit, cursor=cursor, sort_order=order, creator=creator
            )
        return await self._backend.list(
            limit=clean_limit, cursor=cursor, sort_order=order, creator=creator, metadata_filter=clean_filter
        )

    async def create_direct_upload(
        self,
        *,
        id: str | None = None,  # noqa: A002 - the binding's name
        metadata: dict[str, Any] | None = None,
        require_signed_urls: bool | None = None,
        creator: str | None = None,
        expiry: datetime | None = None,
    ) -> DirectUpload:
        """A draft image and a one-time URL that accepts its file without the API token until
        `expiry` (2 minutes to 6 hours ahead, default 30 minutes), per
        https://developers.cloudflare.com/images/upload-images/direct-creator-upload/."""
        if id is not None:
            check_custom_id(id)
        signed = False if require_signed_urls is None else check_require_signed_urls(require_signed_urls)
        if signed and id is not None:
            raise signed_urls_with_custom_id()
        request = DirectUploadRequest(
            id=id,
            metadata=None if metadata is None else check_metadata(metadata),
            require_signed_urls=signed,
            creator=None if creator is None else check_creator(creator),
            expiry=check_direct_upload_expiry(expiry, now=datetime.now(UTC)),
        )
        return await self._backend.create_direct_upload(request)

    def image(self, image_id: str) -> ImageHandle:
        return ImageHandle(self._backend, image_id)


class Images:
    """The service. Build it with `Images.local(path)` or `Images.cloudflare(...)`."""

    def __init__(self, backend: Backend) -> None:
        self._backend = backend
        self.hosted = HostedImages(backend)
        self._account: Account | None = None

    @property
    def account(self) -> Account:
        """The account's objects: `variants`, `keys`, `settings` and `stats()`."""
        if self._account is None:  # built on first use: test doubles of a backend need not have it
            self._account = Account(self._backend.account)
        return self._account

    @classmethod
    def local(
        cls,
        path: str | os.PathLike[str],
        *,
        delivery_base: str | None = None,
        clock: Callable[[], int] | None = None,
        new_id: Callable[[], str] | None = None,
        new_secret: Callable[[int], str] | None = None,
    ) -> Images:
        """A local library rooted at directory `path` (created on first use).

        The seams, for tests and reproducible demos: `clock()` gives upload times in ms since
        the epoch, `new_id()` the ids of uploads without one (uuid-like), `new_secret(nbytes)`
        the library's account hash and signing key when it is created (URL-safe text).
        """
        return cls(
            create_backend(
                "local",
                root=pathlib.Path(path),
                delivery_base=delivery_base,
                clock=clock,
                new_id=new_id,
                new_secret=new_secret,
            )
        )

    @classmethod
    def cloudflare(
        cls,
        account_id: str | None = None,
        api_token: str | None = None,
        *,
        base_url: str | None = None,
        **options: Any,
    ) -> Images:
        """Cloudflare's REST API; credentials default to CLOUDFLARE_ACCOUNT_ID / CLOUDFLARE_API_TOKEN,
        and the base URL to CLOUDFLARE_BASE_URL (as in the official SDK), else Cloudflare's."""
        base_url = base_url or os.environ.get(BASE_URL_ENV) or CLOUDFLARE_API
        return cls(
            create_backend(
                "cloudflare", account_id=account_id, api_token=api_token, base_url=base_url, **options
            )
        )

    @classmethod
    def wrangler(cls, path: str | os.PathLike[str] = ".") -> Images:
        """The images `wrangler dev` stored for a Worker's `images` binding, read-only (writes
        raise ImagesError): `path` is the project folder, its `.wrangler/state`, or that
        state's `v3/images`. Safe while `wrangler dev` runs."""
        return cls(create_backend("wrangler", root=pathlib.Path(path)))

    @classmethod
    def open(cls, spec: str, **options: Any) -> Images:
        """The library a spec names: `local:PATH` (or a bare path), `cf:ACCOUNT_ID`,
        `wrangler:[DIR]` (read-only), or an `imgtui serve` base URL
        `http(s)://HOST:PORT[/client/v4]` (see spec.py). Tokens come from CLOUDFLARE_API_TOKEN
        only. `options` go to the backend (e.g. `max_retries`)."""
        parsed = parse_spec(spec)
        if parsed.kind == "local":
            return cls.local(parsed.target, **options)
        if parsed.kind == "wrangler":
            return cls(create_backend("wrangler", root=pathlib.Path(parsed.target), **options))
        if parsed.kind == "cloudflare":
            return cls.cloudflare(parsed.target, **options)
        # `imgtui serve` without --api-token accepts any bearer token; one must still be sent.
        token = os.environ.get(TOKEN_ENV) or "imgtui-serve-no-token"
        account = parsed.account_id or SERVE_ACCOUNT_ID
        return cls.cloudflare(account, token, base_url=parsed.target, **options)

    @property
    def backend(self) -> Backend:
        return self._backend

    @property
    def label(self) -> str:
        """What is open, for the TUI header: never contains a credential."""
        return self._backend.label

    @property
    def cache_key(self) -> str:
        """Exactly what is open, for naming caches (see `Backend.cache_key`)."""
        return self._backend.cache_key

    def __repr__(self) -> str:
        return f"Images({self.label!r})"

    async def aclose(self) -> None:
        await self._backend.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
